/*
 * scan.c - the memchr ceilings of the extractor benchmarks (scan.h).
 */
#include "scan.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BLOCK = 1 << 20 };

/* the block both scans read from, as read() fills a caller's buffer */
static char block[BLOCK];

double scan_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t count(const char *p, const char *end, char c)
{
	uint64_t n = 0;
	while ((p = memchr(p, c, (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static int open_or_exit(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

double scan_file(const char *path, char c, uint64_t *bytes, uint64_t *hits)
{
	int fd = open_or_exit(path);
	ssize_t k;
	*bytes = *hits = 0;
	double t0 = scan_now();
	while ((k = read(fd, block, sizeof block)) > 0) {
		*hits += count(block, block + k, c);
		*bytes += (uint64_t)k;
	}
	double t = scan_now() - t0;
	close(fd);
	return t;
}

void scan_mem_load(struct scan_mem *m, const char *path)
{
	int fd = open_or_exit(path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		perror(path);
		exit(1);
	}
	m->n = (size_t)st.st_size;
	m->cap = (m->n + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1); /* whole huge pages */
	m->p = m->cap ? mmap(NULL, m->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : NULL;
	if (m->p == MAP_FAILED) {
		perror("scan_mem_load: mmap");
		exit(1);
	}
#ifdef MADV_HUGEPAGE
	if (m->cap)
		madvise(m->p, m->cap, MADV_HUGEPAGE); /* a hint: 4 KiB pages only cost TLB misses here */
#endif
	size_t got = 0;
	while (got < m->n) {
		ssize_t k = read(fd, m->p + got, m->n - got);
		if (k <= 0) {
			fprintf(stderr, "scan_mem_load: %s: short read\n", path);
			exit(1);
		}
		got += (size_t)k;
	}
	close(fd);
}

double scan_mem(const struct scan_mem *m, char c, uint64_t *hits)
{
	*hits = 0;
	double t0 = scan_now();
	for (size_t off = 0; off < m->n; off += sizeof block) {
		size_t k = m->n - off < sizeof block ? m->n - off : sizeof block;
		memcpy(block, m->p + off, k);
		*hits += count(block, block + k, c);
	}
	return scan_now() - t0;
}

void scan_mem_free(struct scan_mem *m)
{
	if (m->cap)
		munmap(m->p, m->cap);
	m->p = NULL;
	m->n = m->cap = 0;
}

double scan_both(const char *path, const struct scan_mem *m, char c, double *file_s, double *mem_s, uint64_t *bytes,
                 uint64_t *hits)
{
	uint64_t mem_hits;
	*file_s = scan_file(path, c, bytes, hits);
	*mem_s = scan_mem(m, c, &mem_hits);
	if (*bytes != m->n || *hits != mem_hits) {
		fprintf(stderr, "scan: %s: the file holds %llu bytes and %llu of the byte looked for, the copy %zu and %llu\n",
		        path, (unsigned long long)*bytes, (unsigned long long)*hits, m->n, (unsigned long long)mem_hits);
		exit(1);
	}
	return *file_s < *mem_s ? *file_s : *mem_s;
}
