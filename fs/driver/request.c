/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request: a FUSE request that may wait on the API. An interrupt from the
 * kernel (Ctrl-C on a waiting cat) cancels its API call and wakes its
 * waits in the caches; request_end unregisters that before the reply, so the
 * callback never touches a request that has ended.
 */
#include "request.h"

#include <string.h>

#include "fs_i.h"

static void on_interrupt(fuse_req_t req, void *data)
{
	struct rq *r = data;

	(void)req;
	atomic_store(&r->intr, 1);
	api_call_cancel(&r->call);
	for (int k = 0; k < K_COUNT; k++)
		cache_wake(r->fs->kinds[k].cache);
}

void request_begin(struct rq *r, fuse_req_t req)
{
	r->fs = fuse_req_userdata(req);
	r->req = req;
	atomic_init(&r->intr, 0);
	api_call_init(&r->call);
	fuse_req_interrupt_func(req, on_interrupt, r);
}

void request_end(struct rq *r)
{
	fuse_req_interrupt_func(r->req, NULL, NULL);
	api_call_destroy(&r->call);
}

void request_entry(struct fuse_entry_param *e, const struct answer *a)
{
	memset(e, 0, sizeof *e);
	e->ino = a->st.st_ino;
	e->generation = 1;
	e->attr = a->st;
	e->attr_timeout = a->timeout;
	e->entry_timeout = a->entry > a->timeout ? a->entry : a->timeout;
}
