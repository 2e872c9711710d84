/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs: one mount's life: its state built (each part by its module), what
 * an earlier run saved read back, the keeper and the state's thread
 * started and stopped, everything freed in the reverse order.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "keeper.h"
#include "metadir.h"
#include "restore.h"
#include "state.h"
#include "tabledir.h"
#include "wiring.h"

int fs_new(const struct fs_conf *conf, struct api *api, struct ifs **out)
{
	struct ifs *fs = calloc(1, sizeof *fs);
	int rc = -ENOMEM;

	if (!fs)
		return -ENOMEM;
	fs->conf = *conf;
	fs->api = api;
	clock_gettime(CLOCK_REALTIME, &fs->mounted);
	/* The caches' clock is clock_mono(). */
	fs->wall_minus_mono = (double)fs->mounted.tv_sec +
			      (double)fs->mounted.tv_nsec / 1e9 - clock_mono();
	if ((rc = objtab_new(&fs->objs)) ||
	    (rc = keeper_new(fs, &fs->keeper)) ||
	    (rc = problems_new(&fs->problems)) ||
	    (rc = metadir_new(&fs->meta)) ||
	    (rc = tabledir_new(conf->nregions, &fs->tables)) ||
	    (rc = journal_new(conf->journal_lines, &fs->mounted,
			      &fs->journal)) ||
	    (rc = state_new(fs, conf->state_dir, &fs->state)) ||
	    (rc = changes_new(conf->nregions, fs->journal,
			      state_hook(fs->state), &fs->changes)))
		goto fail;
	for (int k = 0; k < K_COUNT; k++)
		if ((rc = wiring_kind_new(fs, (enum kind_id)k)))
			goto fail;
	/* Before the first read: what the last run saw. */
	if ((rc = restore_run(fs->state)))
		goto fail;
	*out = fs;
	return 0;
fail:
	fs_free(fs);
	return rc;
}

void fs_free(struct ifs *fs)
{
	if (!fs)
		return;
	/* A background load still under way ends by telling the journal,
	 * the tables and the by-name directories what it got: let it end
	 * before any of them goes. The journal's listings release their
	 * values through the caches, so it goes before them. */
	for (int k = 0; k < K_COUNT; k++)
		if (fs->kinds[k].cache)
			cache_wait_background(fs->kinds[k].cache);
	/* What waits is written; then the listings the state and the
	 * journal hold go, before their caches. */
	state_flush(fs->state);
	changes_free(fs->changes);
	state_free(fs->state);
	for (int k = 0; k < K_COUNT; k++)
		if (fs->kinds[k].k)
			wiring_kind_free(&fs->kinds[k]);
	objtab_free(fs->objs);
	problems_free(fs->problems);
	metadir_free(fs->meta);
	tabledir_free(fs->tables);
	journal_free(fs->journal);
	keeper_free(fs->keeper);
	free(fs);
}

int fs_start(struct ifs *fs, struct fuse_session *se)
{
	int rc;

	fs->se = se;
	if ((rc = keeper_start(fs)))
		return rc;
	return state_start(fs->state);
}

void fs_stop(struct ifs *fs)
{
	if (!fs)
		return;
	keeper_stop(fs);
	state_stop(fs->state);
}
