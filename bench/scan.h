/*
 * scan.h - the ceiling the extractor benchmarks measure against: a memchr
 * scan of the same bytes, in the same run.
 *
 * read() of a file costs more when its page cache is made of 4 KiB pages
 * than when it is made of large folios (up to 2 MiB), and which one a file
 * gets depends on how and when it was written: in small pieces, or while
 * memory was fragmented, small pages. Measured here on the same 100 MB of
 * HL7 v2 written by dd in 4 KiB, 64 KiB and 4 MiB blocks (page cache of 4
 * KiB pages, 64 KiB folios, 2 MiB folios): read + memchr at about 3.3, 4.9
 * and 5.6 GB/s, while the extractor's speed did not move beyond the noise
 * (it is bound by its own work). So the scan of the file alone is a ceiling
 * that moves with how the file landed. The scan from memory is read() at
 * its fastest, whatever the file's layout: the bytes read once into memory
 * (not timed), then copied 1 MiB at a time into the block memchr reads, as
 * read() would. The strict ceiling is the faster of the two.
 */
#ifndef OMOPIPE_BENCH_SCAN_H
#define OMOPIPE_BENCH_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock. */
double scan_now(void);

/* read() path in 1 MiB blocks and memchr every byte c: the seconds it took;
 * the bytes read and the c found in *bytes and *hits. Exits on an open error. */
double scan_file(const char *path, char c, uint64_t *bytes, uint64_t *hits);

/* A file's bytes in memory (anonymous, huge pages asked for). */
struct scan_mem {
	char *p;
	size_t n, cap;
};

/* Read path into m, untimed. Exits on an error. */
void scan_mem_load(struct scan_mem *m, const char *path);
/* scan_file from memory: each 1 MiB copied into the block memchr reads. */
double scan_mem(const struct scan_mem *m, char c, uint64_t *hits);
void scan_mem_free(struct scan_mem *m);

/* scan_file, then scan_mem of its copy m: their seconds in *file_s and
 * *mem_s, the file's bytes and c found in *bytes and *hits. Returns the
 * faster, the ceiling. Exits when the two found different bytes. */
double scan_both(const char *path, const struct scan_mem *m, char c, double *file_s, double *mem_s, uint64_t *bytes,
                 uint64_t *hits);

#endif
