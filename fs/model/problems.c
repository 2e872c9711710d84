/* SPDX-License-Identifier: Apache-2.0 */
/*
 * problems: one digest per object whose problems were said, by kind and
 * id, in a small hash table. It only grows with objects that have a
 * problem, and is emptied when it reaches its bound (the next refresh
 * then says everything once more).
 */
#include "problems.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "log.h"

#define NBUCKETS 1024
#define MAX_NOTED 65536

struct said {
	struct said *next;
	uint64_t digest;
	uint8_t kind;
	char id[FIELD_ID_MAX + 1];
};

struct problems {
	pthread_mutex_t lock;
	struct said *b[NBUCKETS];
	size_t n;
};

int problems_new(struct problems **out)
{
	struct problems *p = calloc(1, sizeof *p);

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

static void forget_all(struct problems *p)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (p->b[i]) {
			struct said *s = p->b[i];
			p->b[i] = s->next;
			free(s);
		}
	}
	p->n = 0;
}

void problems_free(struct problems *p)
{
	if (!p)
		return;
	forget_all(p);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static size_t bucket(const struct robj *o)
{
	const unsigned char *id = (const unsigned char *)robj_id(o);
	size_t h = 5381;

	while (*id)
		h = h * 33 + *id++;
	return h % NBUCKETS;
}

/* Whether o is new or changed since it was last said (and remember it).
 * Called with the lock held. */
static bool first_time(struct problems *p, const struct robj *o)
{
	size_t i = bucket(o);
	uint64_t d = robj_digest(o);
	uint8_t kind = (uint8_t)robj_kind(o)->id;
	struct said *s;

	for (s = p->b[i]; s; s = s->next) {
		if (s->kind != kind || strcmp(s->id, robj_id(o)) != 0)
			continue;
		if (s->digest == d)
			return false;
		s->digest = d;
		return true;
	}
	if (p->n >= MAX_NOTED)
		forget_all(p);
	if (!(s = calloc(1, sizeof *s)))
		return true; /* said again next time: better than never */
	s->digest = d;
	s->kind = kind;
	snprintf(s->id, sizeof s->id, "%s", robj_id(o));
	s->next = p->b[i];
	p->b[i] = s;
	p->n++;
	return true;
}

void problems_note(struct problems *p, const char *region,
		   const struct robj *o)
{
	const char *what = robj_problems(o);
	bool say;

	if (!what)
		return;
	pthread_mutex_lock(&p->lock);
	say = first_time(p, o);
	pthread_mutex_unlock(&p->lock);
	if (say)
		log_warn("%s %s in %s: %s", robj_kind(o)->singular, robj_id(o),
			 region, what);
}
