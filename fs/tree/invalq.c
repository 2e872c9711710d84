/* SPDX-License-Identifier: Apache-2.0 */
/*
 * invalq: a growing array of notifications under one mutex, taken whole.
 */
#include "invalq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

struct invalq {
	pthread_mutex_t lock;
	struct inval *v;
	size_t n, cap;
};

int invalq_new(struct invalq **out)
{
	struct invalq *q = calloc(1, sizeof *q);

	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	*out = q;
	return 0;
}

void invalq_done(struct inval *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		robj_release(v[i].o);
	}
	free(v);
}

void invalq_free(struct invalq *q)
{
	if (!q)
		return;
	invalq_done(q->v, q->n);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Appends e (its name and reference now the queue's); false when out of
 * memory (then nothing is kept). */
static bool append(struct invalq *q, const struct inval *e)
{
	bool ok = true;

	pthread_mutex_lock(&q->lock);
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		struct inval *v = realloc(q->v, cap * sizeof *v);

		if (v) {
			q->v = v;
			q->cap = cap;
		} else {
			ok = false;
		}
	}
	if (ok)
		q->v[q->n++] = *e;
	pthread_mutex_unlock(&q->lock);
	return ok;
}

void invalq_entry(struct invalq *q, uint64_t parent, const char *name)
{
	struct inval e = {.parent = parent, .name = strdup(name)};

	if (e.name && !append(q, &e))
		free(e.name);
}

void invalq_inode(struct invalq *q, uint64_t ino)
{
	struct inval e = {.ino = ino};

	append(q, &e);
}

void invalq_object(struct invalq *q, const struct kind *k, uint64_t obj)
{
	invalq_inode(q, node_obj_ino(obj, NT_OBJ, 0));
	for (unsigned i = 0; i < k->nfiles; i++)
		invalq_inode(q, node_obj_ino(obj, NT_FILE, i));
	for (unsigned j = 0; j < k->nlinks; j++)
		invalq_inode(q, node_obj_ino(obj, NT_LINK, j));
	for (unsigned s = 0; s < k->nsubdirs; s++)
		invalq_inode(q, node_obj_ino(obj, NT_SUBDIR, s));
	if (k->byname)
		invalq_inode(q, node_obj_ino(obj, NT_BYNAME, 0));
	for (int p = 0; p < K_COUNT; p++)
		if (kind_subdir_of(kind_get((enum kind_id)p), k->id) >= 0)
			invalq_inode(q, node_obj_ino(obj, NT_SUB_ENTRY,
						     (uint32_t)p));
}

void invalq_store(struct invalq *q, struct robj *o, unsigned file,
		  uint64_t obj, uint32_t region, uint64_t gen)
{
	struct inval e = {.ino = node_obj_ino(obj, NT_FILE, file), .o = o,
			  .file = file, .obj = obj, .gen = gen,
			  .region = region};

	robj_hold(o);
	if (!append(q, &e))
		robj_release(o);
}

void invalq_take(struct invalq *q, struct inval **out, size_t *n)
{
	pthread_mutex_lock(&q->lock);
	*out = q->v;
	*n = q->n;
	q->v = NULL;
	q->n = q->cap = 0;
	pthread_mutex_unlock(&q->lock);
}
