/*
 * hash.h - fast non-cryptographic hashing.
 *
 * hash64() for hash tables; hash128() for content hashes of input files and for
 * the 16-byte source keys that identify persons, visits and events (collision
 * probability ~n^2/2^129: negligible at any realistic n).
 */
#ifndef OMO_HASH_H
#define OMO_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash128 { uint64_t lo, hi; };

uint64_t hash64(const void *p, size_t n, uint64_t seed);
struct hash128 hash128(const void *p, size_t n);

/* Incremental 128-bit hash over a stream (e.g. a whole file read in blocks).
 * Not the same value as hash128() of the concatenation. */
struct hash_stream { struct hash128 h; uint64_t len; unsigned char tail[4096]; size_t tn; };
void hash_stream_init(struct hash_stream *s);
void hash_stream_add(struct hash_stream *s, const void *p, size_t n);
struct hash128 hash_stream_end(struct hash_stream *s);

/* 32 lower-case hex digits + NUL. */
void hash128_hex(struct hash128 h, char out[33]);

#endif
