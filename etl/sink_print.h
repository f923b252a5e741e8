/*
 * sink_print.h - a sink that writes what an extractor says, a line each, and
 * passes every call on to another sink (if given):
 *
 *   begin N line L offset O bytes B           a source record starts
 *     id ID                                   its name (sink_source_id)
 *     rec ...                                 a record (record_print)
 *     note WHAT
 *   end loaded | end quarantined REASON at WHERE line L: MESSAGE | end skipped: REASON
 *
 * For tools and tests comparing two extractions of the same input (two
 * builds, whole or byte by byte). It prints patient data: never into a log.
 */
#ifndef OMO_SINK_PRINT_H
#define OMO_SINK_PRINT_H

#include <stdio.h>
#include "etl/sink.h"

struct sink_print {
	struct sink base;
	FILE *f;
	struct sink *next;         /* NULL: none; else its results are returned */
};

void sink_print_init(struct sink_print *p, FILE *f, struct sink *next);

#endif
