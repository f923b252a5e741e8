/*
 * csv_extract.h - knobs of the CSV extractor beyond struct extract_ops.
 *
 * extract_csv (etl/extract/extract.h) is what the loader uses; this header
 * only adds what tests and benchmarks need.
 */
#ifndef OMO_CSV_EXTRACT_H
#define OMO_CSV_EXTRACT_H

#include <stddef.h>

struct extractor;

/* Read input n bytes at a time (tests use 1 to feed the parser byte by byte); 0: default. */
void csv_extract_set_read_size(struct extractor *x, size_t n);

#endif
