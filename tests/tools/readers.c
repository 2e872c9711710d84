/* SPDX-License-Identifier: Apache-2.0 */
/*
 * readers: N threads read one file over and over for S seconds, each read
 * a new open(), one read() of up to 4096 bytes and close(), as `cat` does,
 * and sort what each read returned against the values the file may hold:
 *
 *   exact   the bytes of one value
 *   short   a strict prefix of a value (cut short)
 *   padded  a value followed by zero bytes
 *   failed  open() or read() failed (errno counted apart)
 *   mixed   anything else: bytes of two values, or of none
 *
 *   readers FILE SECONDS THREADS VALUE...
 *
 * Prints one line "reads N exact N short N padded N failed N mixed N",
 * then the first failure's errno when some failed, then up to 5 mixed
 * reads as they came (escaped), and exits 0. Values are
 * given without their final newline, which each is taken to have.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF 4096
#define SHOW 5

struct run {
	const char *file;
	double until;
	char **values;
	size_t *lens;
	int nvalues;
	atomic_ulong reads, exact, shortr, padded, failed, mixed;
	atomic_int first_errno;
	pthread_mutex_t lock;
	char shown[SHOW][BUF];
	size_t shown_len[SHOW];
	int nshown;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum verdict { V_EXACT, V_SHORT, V_PADDED, V_MIXED };

static enum verdict judge(const struct run *r, const char *b, size_t n)
{
	enum verdict best = V_MIXED;

	for (int i = 0; i < r->nvalues; i++) {
		size_t len = r->lens[i];
		size_t zeros = 0;

		if (n == len && memcmp(b, r->values[i], n) == 0)
			return V_EXACT;
		if (n < len && memcmp(b, r->values[i], n) == 0)
			best = V_SHORT;
		if (n > len && memcmp(b, r->values[i], len) == 0) {
			while (len + zeros < n && b[len + zeros] == '\0')
				zeros++;
			if (len + zeros == n && best == V_MIXED)
				best = V_PADDED;
		}
	}
	return best;
}

static void *reader(void *arg)
{
	struct run *r = arg;
	char b[BUF];

	while (now() < r->until) {
		int fd = open(r->file, O_RDONLY);
		ssize_t n;

		if (fd < 0) {
			int zero = 0;
			atomic_compare_exchange_strong(&r->first_errno, &zero,
						       errno);
			atomic_fetch_add(&r->failed, 1);
			atomic_fetch_add(&r->reads, 1);
			continue;
		}
		n = read(fd, b, sizeof b);
		close(fd);
		atomic_fetch_add(&r->reads, 1);
		if (n < 0) {
			int zero = 0;
			atomic_compare_exchange_strong(&r->first_errno, &zero,
						       errno);
			atomic_fetch_add(&r->failed, 1);
			continue;
		}
		switch (judge(r, b, (size_t)n)) {
		case V_EXACT: atomic_fetch_add(&r->exact, 1); break;
		case V_SHORT: atomic_fetch_add(&r->shortr, 1); break;
		case V_PADDED: atomic_fetch_add(&r->padded, 1); break;
		case V_MIXED:
			atomic_fetch_add(&r->mixed, 1);
			pthread_mutex_lock(&r->lock);
			if (r->nshown < SHOW) {
				memcpy(r->shown[r->nshown], b, (size_t)n);
				r->shown_len[r->nshown++] = (size_t)n;
			}
			pthread_mutex_unlock(&r->lock);
			break;
		}
	}
	return NULL;
}

static void show(const char *b, size_t n)
{
	putchar('\'');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 32 || c >= 127 || c == '\\' || c == '\'')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	puts("'");
}

int main(int argc, char **argv)
{
	struct run r = {0};
	pthread_t *t;
	int n;

	if (argc < 5) {
		fprintf(stderr, "usage: %s FILE SECONDS THREADS VALUE...\n",
			argv[0]);
		return 2;
	}
	r.file = argv[1];
	r.until = now() + atof(argv[2]);
	n = atoi(argv[3]);
	r.nvalues = argc - 4;
	r.values = calloc((size_t)r.nvalues, sizeof *r.values);
	r.lens = calloc((size_t)r.nvalues, sizeof *r.lens);
	t = calloc((size_t)(n > 0 ? n : 1), sizeof *t);
	if (!r.values || !r.lens || !t || n < 1)
		return 2;
	for (int i = 0; i < r.nvalues; i++) {
		size_t len = strlen(argv[4 + i]);
		if (!(r.values[i] = malloc(len + 2)))
			return 2;
		memcpy(r.values[i], argv[4 + i], len);
		r.values[i][len] = '\n';
		r.lens[i] = len + 1;
	}
	pthread_mutex_init(&r.lock, NULL);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, reader, &r))
			return 2;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("reads %lu exact %lu short %lu padded %lu failed %lu mixed %lu\n",
	       atomic_load(&r.reads), atomic_load(&r.exact),
	       atomic_load(&r.shortr), atomic_load(&r.padded),
	       atomic_load(&r.failed), atomic_load(&r.mixed));
	if (atomic_load(&r.failed))
		printf("first failure: %s\n",
		       strerror(atomic_load(&r.first_errno)));
	for (int i = 0; i < r.nshown; i++)
		show(r.shown[i], r.shown_len[i]);
	pthread_mutex_destroy(&r.lock);
	for (int i = 0; i < r.nvalues; i++)
		free(r.values[i]);
	free(r.values);
	free(r.lens);
	free(t);
	return 0;
}
