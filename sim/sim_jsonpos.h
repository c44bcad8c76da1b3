/*
 * sim_jsonpos.h - source lines of cJSON nodes (jsonpos.c).
 */
#ifndef SCANLAB_SIM_SIM_JSONPOS_H
#define SCANLAB_SIM_SIM_JSONPOS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The 1-based line where node's value starts in text (which root was
 * parsed from), or 0 if it cannot be found. */
long sim_json_line(const char *text, size_t len, const cJSON *root, const cJSON *node);

#endif /* SCANLAB_SIM_SIM_JSONPOS_H */
