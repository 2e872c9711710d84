/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page: the API's answers read without HTTP. A body is parsed as it is;
 * if jansson refuses it, once more after jsontext's repairs; and a list
 * page that still cannot be parsed is split into its records, so that a
 * record that cannot be read is skipped alone (with a log line naming its
 * id) and the rest of the page is served.
 */
#include "api_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "jsontext.h"
#include "log.h"

/* Log lines about one page's entries: the first few, then a count. */
#define LOG_FIRST 3

/* Warnings about what the API sent: at debug level when this very answer
 * was read before (a refresh that brings the same page again). */
static enum log_level data_level(bool quiet)
{
	return quiet ? LOGL_DEBUG : LOGL_WARNING;
}

static void log_repairs(const struct jsontext_repairs *r, bool quiet)
{
	enum log_level lvl = data_level(quiet);

	if (r->bad_utf8)
		log_msg(lvl, "the API sent %zu invalid UTF-8 byte%s; shown as "
			 "U+FFFD", r->bad_utf8, r->bad_utf8 == 1 ? "" : "s");
	if (r->surrogates)
		log_msg(lvl, "the API sent %zu lone surrogate escape%s; shown as "
			 "U+FFFD", r->surrogates, r->surrogates == 1 ? "" : "s");
	if (r->numbers)
		log_msg(quiet ? LOGL_DEBUG : LOGL_INFO, "the API sent %zu number%s beyond 64 bits; shown as "
			 "sent", r->numbers, r->numbers == 1 ? "" : "s");
}

static void set_why(json_error_t *je, char *why, size_t whylen)
{
	snprintf(why, whylen, "invalid JSON (line %d, column %d: %s)",
		 je->line, je->column, je->text);
}

/*
 * The body parsed, repaired first if it has to be. *fixed: the repaired
 * text when a repair was made (the caller frees; NULL otherwise), kept for
 * splitting. NULL when it still cannot be parsed (why says where).
 */
static json_t *parse(const char *body, size_t len, bool quiet, char **fixed,
		     size_t *fixedlen, char *why, size_t whylen)
{
	struct jsontext_repairs r;
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_ALLOW_NUL, &je);

	*fixed = NULL;
	if (j)
		return j;
	set_why(&je, why, whylen);
	if (jsontext_repair(body, len, fixed, fixedlen, &r))
		return NULL;
	j = json_loadb(*fixed, *fixedlen, JSON_ALLOW_NUL, &je);
	if (j)
		log_repairs(&r, quiet);
	return j;
}

/* A good answer must have the right shape, or it is an error. */
static int shape_ok(const json_t *j, const char *key, char *why,
		    size_t whylen)
{
	const json_t *tc = json_object_get(j, "total_count");

	if (!json_is_object(j)) {
		snprintf(why, whylen, "unexpected answer: not a JSON object");
		return -EIO;
	}
	if (key && !json_is_array(json_object_get(j, key))) {
		snprintf(why, whylen, "unexpected answer: '%s' is not an array",
			 key);
		return -EIO;
	}
	if (key && (!json_is_integer(tc) || json_integer_value(tc) < 0)) {
		snprintf(why, whylen,
			 "unexpected answer: 'total_count' is not a count");
		return -EIO;
	}
	return 0;
}

int page_read_object(const char *body, size_t len, bool quiet, json_t **out,
		     char *why, size_t whylen)
{
	char *fixed;
	size_t flen;
	json_t *j = parse(body, len, quiet, &fixed, &flen, why, whylen);
	int rc = j ? shape_ok(j, NULL, why, whylen) : -EIO;

	free(fixed);
	if (rc) {
		json_decref(j);
		return rc;
	}
	*out = j;
	return 0;
}

/* The records of a page that jansson refused whole: the page without its
 * records, and each record parsed on its own (a JSON null where one cannot
 * be read; logged with its id). NULL when even that fails (why keeps the
 * reason jansson gave for the whole page). */
static json_t *read_by_record(const char *text, size_t len, const char *key,
			      bool quiet, char *why, size_t whylen)
{
	struct jsontext_span *sp = NULL;
	size_t n = 0, a0, a1, bad = 0;
	char *rest = NULL, id[80];
	json_error_t je;
	json_t *page = NULL, *arr;

	if (jsontext_split(text, len, key, &sp, &n, &a0, &a1) ||
	    !(rest = malloc(len - (a1 - a0) + 1)))
		goto out;
	memcpy(rest, text, a0);
	memcpy(rest + a0, text + a1, len - a1);
	page = json_loadb(rest, len - (a1 - a0), JSON_ALLOW_NUL, &je);
	if (!page || !json_is_array(arr = json_object_get(page, key))) {
		if (page)
			json_decref(page);
		page = NULL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_loadb(text + sp[i].start,
					 sp[i].end - sp[i].start,
					 JSON_ALLOW_NUL, &je);
		if (!rec && bad++ < LOG_FIRST)
			log_msg(data_level(quiet), "skipping a %s entry that cannot be read (id "
				 "%s): %s at column %d", key,
				 jsontext_record_id(text + sp[i].start, sp[i].end -
					      sp[i].start, id, sizeof id) ?
				 id : "unknown", je.text, je.column);
		json_array_append_new(arr, rec ? rec : json_null());
	}
	if (bad > LOG_FIRST)
		log_msg(data_level(quiet), "skipped %zu %s entries that cannot "
			"be read", bad, key);
out:
	free(rest);
	free(sp);
	return page;
}

void page_digest_free(struct digest *d, const struct api_sink *sink)
{
	if (!d)
		return;
	json_decref(d->ids);
	for (size_t i = 0; i < d->nitems; i++) {
		if (sink && sink->drop)
			sink->drop(d->items[i], sink->ud);
		else if (!sink)
			json_decref(d->items[i]);
	}
	free(d->items);
	free(d);
}

/* One entry of a page into d: counted, checked, made by the sink. */
static int take_entry(struct digest *d, const json_t *c,
		      const struct api_kind *k, const struct api_filters *f,
		      const struct api_sink *sink, bool quiet)
{
	const char *id = field_id(c);
	void *m;

	d->raw++;
	if (json_is_null(c)) {
		d->unreadable++;
		return 0;
	}
	if (!id) {
		if (d->skipped++ < LOG_FIRST) {
			char *txt = json_dumps(json_object_get(c, "id"),
					       JSON_ENCODE_ANY);
			log_msg(data_level(quiet), "skipping a %s entry whose "
				"id is not a UUID: %.60s", k->key,
				txt ? txt : "none");
			free(txt);
		}
		return 0;
	}
	if (!filter_match(f, c)) {
		d->filtered++;
		return 0;
	}
	m = sink ? sink->make(c, sink->ud) : json_incref((json_t *)c);
	if (!m)
		return -ENOMEM;
	d->items[d->nitems++] = m;
	if (json_array_append_new(d->ids, json_string(id)))
		return -ENOMEM;
	return 0;
}

int page_read_list(const char *body, size_t len, const struct api_kind *k,
		   const struct api_filters *f, const struct api_sink *sink,
		   bool quiet, struct digest **out, char *why, size_t whylen)
{
	char *fixed;
	size_t flen, i;
	json_t *page = parse(body, len, quiet, &fixed, &flen, why, whylen);
	json_t *arr, *c;
	struct digest *d = NULL;
	int rc;

	if (!page)
		page = read_by_record(fixed ? fixed : body, fixed ? flen : len,
				      k->key, quiet, why, whylen);
	free(fixed);
	if (!page)
		return -EIO;
	if ((rc = shape_ok(page, k->key, why, whylen)))
		goto out;
	arr = json_object_get(page, k->key);
	rc = -ENOMEM;
	d = calloc(1, sizeof *d);
	if (!d || !(d->ids = json_array()) ||
	    !(d->items = calloc(json_array_size(arr) + 1, sizeof *d->items)))
		goto out;
	d->total = json_integer_value(json_object_get(page, "total_count"));
	json_array_foreach(arr, i, c)
		if ((rc = take_entry(d, c, k, f, sink, quiet)))
			goto out;
	rc = 0;
out:
	json_decref(page);
	if (rc) {
		page_digest_free(d, sink);
		return rc;
	}
	*out = d;
	return 0;
}
