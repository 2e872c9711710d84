/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wiring: per kind of object, a cache whose loaders turn what the API
 * sends into rendered objects (robj.h) as each page arrives, whose change
 * callback tells the kernel (through the keeper) what to forget, and
 * whose listed callback hands every listing to the journal and the tables.
 */
#include "wiring.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "fs_i.h"
#include "keeper.h"
#include "node.h"
#include "request.h"
#include "robj.h"
#include "state.h"
#include "tabledir.h"
#include "tables.h"

/* Listings at least this long give back the memory their pages took. */
#define TRIM_AFTER 1000

static int region_index(struct ifs *fs, const char *region)
{
	for (uint32_t r = 0; r < fs->conf.nregions; r++)
		if (strcmp(fs->conf.regions[r], region) == 0)
			return (int)r;
	return -1;
}

/* ---- loaders: the cache's view of the API --------------------------------- */

static struct api_call *call_of(void *ctx)
{
	return ctx ? &((struct rq *)ctx)->call : NULL;
}

/* What the API client said of a load, as the cache keeps it: how old the
 * data is, or what failed (the errno's words, and the API's). */
static void note_of(struct cache_note *note, int rc,
		    const struct api_info *info, const struct api_error *err)
{
	char status[24] = "";

	if (!rc) {
		note->age = info->age;
		return;
	}
	note->incomplete = info->incomplete;
	if (err->http_status && err->http_status != 200)
		snprintf(status, sizeof status, " (HTTP %ld)", err->http_status);
	/* Cut to what the note holds, if it must: the start of the API's
	 * words is what a person reads first. */
	if (snprintf(note->why, sizeof note->why, "%s%s%s%s", strerror(-rc),
		     status, err->message[0] ? ": " : "", err->message) < 0)
		note->why[0] = '\0';
	/* The API's words go to health and the journal: no control
	 * character (an escape sequence for a terminal's tail -f). */
	for (char *p = note->why; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* A 404 for the listing of a kind in a region the API serves (its probe
 * kind's listing is held): not "no such region", but an answer that
 * cannot be right; an error (EIO), so that the listing is not shown
 * empty, and what was held is served as stale. */
static int served_404(struct kstate *ks, const char *region, int rc,
		      const struct api_error *err, struct cache_note *note)
{
	struct kstate *probe = &ks->fs->kinds[kind_probe()->id];
	struct cache_item it;
	bool served;

	if (rc != -ENOENT || err->http_status != 404 || ks == probe)
		return rc;
	served = cache_peek_list(probe->cache, region, &it) == 0;
	cache_item_release(probe->cache, &it);
	if (!served)
		return rc;
	snprintf(note->why, sizeof note->why, "Input/output error (HTTP "
		 "404): the API said no such list of %s, in a region it "
		 "serves", ks->k->dir);
	return -EIO;
}

/* A key the API refused (401): nothing cached may be served any more,
 * whatever kind it is of (the catalogue's too). */
static void key_refused(struct kstate *ks, int rc, const struct api_error *err)
{
	if (rc == -EACCES && err->http_status == 401)
		keeper_key(ks->fs, true);
	else if (rc == 0)
		keeper_key(ks->fs, false);
}

/* A listing's loader's sink: each entry, rendered; what is wrong with it
 * said once per change. */
struct maker {
	struct kstate *ks;
	const char *region;
};

static void *make(const json_t *obj, void *ud)
{
	const struct maker *m = ud;
	struct robj *o = robj_new(m->ks->k, obj);

	if (o)
		problems_note(m->ks->fs->problems, m->region, o);
	return o;
}

static void drop(void *item, void *ud)
{
	(void)ud;
	robj_release(item);
}

/* Each page becomes rendered objects as it arrives: a 10,000-object list
 * never exists as jansson objects all at once. */
static int load_list(void *ud, const char *region, void *ctx, void ***items,
		     size_t *n, struct cache_note *note)
{
	struct kstate *ks = ud;
	struct maker m = {ks, region};
	struct api_sink sink = {make, drop, &m};
	struct api_info info = {0};
	struct api_error err = {0};
	int rc = api_list_items(ks->fs->api, &ks->k->api, region,
				&ks->filters, &sink, call_of(ctx), items, n,
				&info, &err);

	note_of(note, rc, &info, &err);
	rc = served_404(ks, region, rc, &err, note);
	key_refused(ks, rc, &err);
	/* The pages were parsed on the transfer threads, each in a malloc
	 * arena of its own; what they freed is given back now, not on the
	 * keeper's next trim, so a mount's size right after a walk is what
	 * it holds. */
	if (!rc && *n >= TRIM_AFTER)
		malloc_trim(0);
	return rc;
}

static int load_one(void *ud, const char *region, const char *id, void *ctx,
		    void **out, struct cache_note *note)
{
	struct kstate *ks = ud;
	struct api_info info = {0};
	struct api_error err = {0};
	json_t *obj = NULL;
	int rc = api_get_object(ks->fs->api, &ks->k->api, region, id,
				&ks->filters, call_of(ctx), &obj, &info, &err);

	note_of(note, rc, &info, &err);
	key_refused(ks, rc, &err);
	if (rc == 0 && !(*out = robj_new(ks->k, obj)))
		rc = -ENOMEM;
	if (rc == 0)
		problems_note(ks->fs->problems, region, *out);
	json_decref(obj);
	return rc;
}

/* ---- what a change means for the kernel ----------------------------------- */

/* A child object of a subdirectory moved in or out of its parent's: the
 * parent's subdirectory forgets it. */
static void child_moved(struct ifs *fs, const struct kind *child, uint32_t r,
			const struct robj *o, const char *id)
{
	for (int p = 0; p < K_COUNT; p++) {
		int s = kind_subdir_of(kind_get(p), child->id);
		const char *to;
		size_t len;
		char pid[FIELD_ID_MAX + 1];
		uint64_t obj;

		if (s < 0 || !o ||
		    robj_link(o, kind_get(p)->subdirs[s].link, &to, &len) ||
		    len > FIELD_ID_MAX)
			continue;
		memcpy(pid, to, len);
		pid[len] = '\0';
		if (!(obj = objtab_find(fs->objs, (enum kind_id)p, r, pid)))
			continue;
		keeper_entry(fs, node_obj_ino(obj, NT_SUBDIR, (uint32_t)s), id);
		keeper_inode(fs, node_obj_ino(obj, NT_SUBDIR, (uint32_t)s));
	}
}

/* The cache tells us what changed: tell the kernel (through the keeper).
 * An added or removed id changes its directory's entry; a changed or
 * removed one, everything below it; and the directories it is listed in
 * through a link (subdirectories, by-name) follow. */
static void on_changes(void *ud, const char *region,
		       const struct cache_change *ch, size_t n,
		       const struct cache_listing *listing)
{
	struct kstate *ks = ud;
	struct ifs *fs = ks->fs;
	int r = region_index(fs, region);
	uint64_t dir;

	if (r < 0)
		return;
	dir = node_kind_dir_ino((uint32_t)r, ks->k->id, false);
	for (size_t i = 0; i < n; i++) {
		uint64_t obj = objtab_find(fs->objs, ks->k->id, (uint32_t)r,
					   ch[i].id);
		if (ch[i].kind != CACHE_CHANGED)
			keeper_entry(fs, dir, ch[i].id);
		child_moved(fs, ks->k, (uint32_t)r, ch[i].before, ch[i].id);
		child_moved(fs, ks->k, (uint32_t)r, ch[i].after, ch[i].id);
		if (obj && ch[i].kind != CACHE_ADDED)
			keeper_object(fs, ks->k, obj);
	}
	keeper_inode(fs, dir);
	if (ks->byname) {
		struct keeper_dir g = {fs, node_kind_dir_ino((uint32_t)r,
							     ks->k->id, true)};
		if (listing)
			byname_update(ks->byname, (uint32_t)r,
				      (struct cache_listing *)listing,
				      keeper_forget_name, &g);
		keeper_inode(fs, g.dir);
	}
	keeper_kick(fs);
}

/* Every listing that came, changed or not: the journal compares it with
 * the one before and the state saves it (in its turn), and the tables
 * follow it when it moved. */
static void on_listed(void *ud, const char *region,
		      const struct cache_listing *listing)
{
	struct kstate *ks = ud;
	struct ifs *fs = ks->fs;
	int r = region_index(fs, region);
	struct cache_sight sg;
	struct timespec now;
	double wall;

	if (r < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	wall = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	/* Loads of a region do not overlap: what the cache holds is what
	 * this load brought, made when the API says. */
	cache_sight(ks->cache, region, &sg);
	state_listed(fs->state, ks->k, (uint32_t)r, listing, &now,
		     sg.held ? sg.born + fs->wall_minus_mono : wall);
	/* Only a rendering the kernel may hold is invalidated: invalidating
	 * one made from this very listing would drop the pages a reader has
	 * just been given, and the next read would come here again. */
	for (unsigned f = 0; f < TABLE_FORMATS; f++)
		if (tabledir_behind(fs->tables, ks->k->id, f, (uint32_t)r,
				    cache_listing_seq(listing))) {
			keeper_inode(fs, node_table_ino(ks->k->id, f));
			keeper_kick(fs);
		}
}

/* ---- a kind's state ---------------------------------------------------------- */

int wiring_kind_new(struct ifs *fs, enum kind_id k)
{
	struct kstate *ks = &fs->kinds[k];
	struct cache_conf cc;
	struct cache_ops co = {
		.load_list = load_list, .load_one = load_one,
		.changed = on_changes, .listed = on_listed, .ud = ks,
		.values = {robj_hold_v, robj_release_v, robj_equal_v,
			   robj_size_v, robj_id_v},
	};
	uint32_t nr = fs->conf.nregions ? fs->conf.nregions : 1;

	ks->fs = fs;
	ks->k = kind_get(k);
	kind_filters(ks->k, &fs->conf.filters, &ks->filters);
	ks->ttl = ks->k->fresh == FRESH_CATALOG && fs->conf.ttl > 0 ?
		  fs->conf.catalog_ttl : fs->conf.ttl;
	if (ks->k->nsubdirs &&
	    backref_new((size_t)nr * KIND_MAX_SUBDIRS, &ks->backrefs))
		return -ENOMEM;
	if (ks->k->byname && byname_new(nr, &ks->byname))
		return -ENOMEM;
	cache_conf_default(&cc);
	cc.ttl = ks->ttl;
	cc.stale = fs->conf.stale;
	cc.grace = fs->conf.grace;
	/* The journal says "-" only of what a listing really lost. */
	cc.confirm_removals = true;
	if (fs->conf.budget)
		cc.budget = fs->conf.budget;
	return cache_new(&cc, &co, &ks->cache);
}

void wiring_kind_free(struct kstate *ks)
{
	/* A listing still held by by-name points at its cache's ops:
	 * released while that cache lives. */
	byname_free(ks->byname);
	cache_free(ks->cache);
	backref_free(ks->backrefs);
}

