/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simquery: the list and get endpoints of every collection, from one table:
 * which query parameters each list takes and how it checks them (a bad value
 * is a 400 naming the argument, as the API does), how each filter selects,
 * the orders, and pagination with a server-side page cap.
 *
 * Where the public API documentation is silent, the simulator makes a choice
 * and its man page says so: the name filter matches part of a name, status_*
 * orders follow the documented enum order, ties are broken by id, a PoP
 * has "dedicated_available" when a connection of its region lands there, a
 * partner serves the PoPs its hosted links land at (pop_ids: any of them),
 * and a link uses a routing policy when it is its v4, v6 or deprecated one.
 */
#include "simdata_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a filter's value is checked and, without a test, matched. The
 * field may be a member of a member ("partner.partner_id"). */
enum fkind {
	FK_UUID,      /* a UUID, equal to the field */
	FK_ENUM,      /* one of `values`, equal to the field */
	FK_STR,       /* any text, equal to the field */
	FK_PART,      /* any text, part of the field; empty matches all */
	FK_UINT,      /* an unsigned integer, equal to the field */
	FK_TAGS,      /* repeatable: every one among the field's strings */
	FK_UINT_IN,   /* an unsigned integer among the field's numbers */
	FK_BOOL,      /* true or false, equal to the field (or by test) */
	FK_UUIDS,     /* repeatable: a UUID; matched by test, any of them */
};

struct term;

struct fdef {
	const char *param;
	enum fkind kind;
	const char *field;
	const char *const *values;               /* FK_ENUM */
	/* Matches o, when the field alone does not say. */
	bool (*test)(const struct region *r, const json_t *o,
		     const struct term *t);
};

/* A filter with its value, checked. */
struct term {
	const struct fdef *f;
	const char *value;
	uint64_t u;
	bool b;
};

/* What a collection's list takes (its names are simcoll.c's). */
struct coll {
	const struct fdef *filters;
	const char *const *orders;               /* the first is the default */
	const char *const *statuses;             /* for status_* orders */
};

static const char *const conn_statuses[] = {
	"unknown_status", "created", "configuring", "failed", "active",
	"disabled", "deleted", "locked", NULL,
};

static const char *const link_statuses[] = {
	"unknown_link_status", "configuring", "failed", "requested",
	"refused", "expired", "provisioning", "active",
	"limited_connectivity", "all_down", "deprovisioning", "deleted",
	"locked", "ready", NULL,
};

static const char *const bgp_statuses[] = {
	"unknown_bgp_status", "up", "down", "disabled", NULL,
};

static const char *const link_kinds[] = {"hosted", "self_hosted", NULL};

/* The string at a member path ("a.b"); NULL when missing or not one. */
static const json_t *member(const json_t *o, const char *path)
{
	const char *dot = strchr(path, '.');
	char head[64];

	if (!dot)
		return json_object_get(o, path);
	if ((size_t)(dot - path) >= sizeof head)
		return NULL;
	memcpy(head, path, (size_t)(dot - path));
	head[dot - path] = '\0';
	return member(json_object_get(o, head), dot + 1);
}

static bool str_is(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* Does an object of coll c in r have `field` equal to id? */
static bool any_with(const struct region *r, enum sim_coll c,
		     const char *field, const char *id, const char *field2,
		     const char *id2)
{
	size_t i;
	json_t *o;

	json_array_foreach(r->items[c], i, o)
		if (str_is(member(o, field), id) &&
		    (!field2 || str_is(member(o, field2), id2)))
			return true;
	return false;
}

static bool pop_dedicated(const struct region *r, const json_t *p,
			  const struct term *t)
{
	const char *id = json_string_value(json_object_get(p, "id"));

	return (id && any_with(r, SC_CONNS, "pop_id", id, NULL, NULL)) == t->b;
}

/* A partner serves the PoPs its hosted links land at. */
static bool pop_has_partner(const struct region *r, const json_t *p,
			    const struct term *t)
{
	const char *id = json_string_value(json_object_get(p, "id"));

	return id && any_with(r, SC_LINKS, "pop_id", id, "partner.partner_id",
			      t->value);
}

static bool partner_at_pop(const struct region *r, const json_t *p,
			   const struct term *t)
{
	const char *id = json_string_value(json_object_get(p, "id"));

	return id && any_with(r, SC_LINKS, "partner.partner_id", id, "pop_id",
			      t->value);
}

static bool link_uses_policy(const struct region *r, const json_t *l,
			     const struct term *t)
{
	(void)r;
	return str_is(json_object_get(l, "routing_policy_v4_id"), t->value) ||
	       str_is(json_object_get(l, "routing_policy_v6_id"), t->value) ||
	       str_is(json_object_get(l, "routing_policy_id"), t->value);
}

static bool link_kind(const struct region *r, const json_t *l,
		      const struct term *t)
{
	bool self = json_is_object(json_object_get(l, "self"));
	bool partner = json_is_object(json_object_get(l, "partner"));

	(void)r;
	return self != partner &&
	       strcmp(t->value, self ? "self_hosted" : "hosted") == 0;
}

static const struct fdef conn_filters[] = {
	{"project_id", FK_UUID, "project_id", NULL, NULL},
	{"organization_id", FK_UUID, "organization_id", NULL, NULL},
	{"pop_id", FK_UUID, "pop_id", NULL, NULL},
	{"name", FK_PART, "name", NULL, NULL},
	{"status", FK_ENUM, "status", conn_statuses, NULL},
	{"bandwidth_mbps", FK_UINT, "bandwidth_mbps", NULL, NULL},
	{"tags", FK_TAGS, "tags", NULL, NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const struct fdef pop_filters[] = {
	{"name", FK_PART, "name", NULL, NULL},
	{"hosting_provider_name", FK_STR, "hosting_provider_name", NULL, NULL},
	{"partner_id", FK_UUID, NULL, NULL, pop_has_partner},
	{"link_bandwidth_mbps", FK_UINT_IN, "available_link_bandwidths_mbps",
	 NULL, NULL},
	{"dedicated_available", FK_BOOL, NULL, NULL, pop_dedicated},
	{NULL, 0, NULL, NULL, NULL},
};

static const struct fdef link_filters[] = {
	{"project_id", FK_UUID, "project_id", NULL, NULL},
	{"organization_id", FK_UUID, "organization_id", NULL, NULL},
	{"name", FK_PART, "name", NULL, NULL},
	{"tags", FK_TAGS, "tags", NULL, NULL},
	{"status", FK_ENUM, "status", link_statuses, NULL},
	{"bgp_v4_status", FK_ENUM, "bgp_v4_status", bgp_statuses, NULL},
	{"bgp_v6_status", FK_ENUM, "bgp_v6_status", bgp_statuses, NULL},
	{"pop_id", FK_UUID, "pop_id", NULL, NULL},
	{"bandwidth_mbps", FK_UINT, "bandwidth_mbps", NULL, NULL},
	{"partner_id", FK_UUID, "partner.partner_id", NULL, NULL},
	{"vpc_id", FK_UUID, "vpc_id", NULL, NULL},
	{"routing_policy_id", FK_UUID, NULL, NULL, link_uses_policy},
	{"pairing_key", FK_STR, "partner.pairing_key", NULL, NULL},
	{"kind", FK_ENUM, NULL, link_kinds, link_kind},
	{"connection_id", FK_UUID, "self.connection_id", NULL, NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const struct fdef partner_filters[] = {
	{"pop_ids", FK_UUIDS, NULL, NULL, partner_at_pop},
	{NULL, 0, NULL, NULL, NULL},
};

static const struct fdef rp_filters[] = {
	{"project_id", FK_UUID, "project_id", NULL, NULL},
	{"organization_id", FK_UUID, "organization_id", NULL, NULL},
	{"name", FK_PART, "name", NULL, NULL},
	{"tags", FK_TAGS, "tags", NULL, NULL},
	{"ipv6", FK_BOOL, "is_ipv6", NULL, NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static const char *const conn_orders[] = {
	"name_asc", "name_desc", "created_at_asc", "created_at_desc",
	"updated_at_asc", "updated_at_desc", "status_asc", "status_desc",
	NULL,
};
static const char *const name_orders[] = {"name_asc", "name_desc", NULL};
static const char *const link_orders[] = {
	"created_at_asc", "created_at_desc", "name_asc", "name_desc",
	"status_asc", "status_desc", NULL,
};
static const char *const rp_orders[] = {
	"created_at_asc", "created_at_desc", "name_asc", "name_desc", NULL,
};

static const struct coll colls[SC_COUNT] = {
	[SC_CONNS] = {conn_filters, conn_orders, conn_statuses},
	[SC_POPS] = {pop_filters, name_orders, NULL},
	[SC_LINKS] = {link_filters, link_orders, link_statuses},
	[SC_PARTNERS] = {partner_filters, name_orders, NULL},
	[SC_RPS] = {rp_filters, rp_orders, NULL},
};

static struct sim_reply reply(int status, json_t *body)
{
	return (struct sim_reply){.status = status, .body = body};
}

static struct sim_reply bad_arg(const char *arg, const char *help)
{
	json_t *b = simdata_error_body("invalid_arguments",
				       "invalid argument(s)", NULL, NULL);
	json_object_set_new(b, "details", json_pack(
		"[{s:s, s:s, s:s}]", "argument_name", arg, "reason",
		"constraint", "help_message", help));
	return reply(400, b);
}

static struct sim_reply not_found(const char *resource, const char *id)
{
	return reply(404, simdata_error_body("not_found", "resource is not "
					     "found", resource, id));
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

#define MAX_TERMS 40

struct query {
	uint64_t page, page_size;
	bool exact_names;          /* name= matches the whole name */
	int order;                 /* index into the collection's orders */
	struct term terms[MAX_TERMS];
	size_t nterms;
};

static bool in_list(const char *const *list, const char *v)
{
	for (; list && *list; list++)
		if (strcmp(*list, v) == 0)
			return true;
	return false;
}

/* One filter's value: 0, or a 400 in *err. */
static int check_term(const struct fdef *f, const char *v, struct term *t,
		      struct sim_reply *err)
{
	t->f = f;
	t->value = v;
	switch (f->kind) {
	case FK_UUID:
	case FK_UUIDS:
		if (sim_is_uuid(v))
			return 0;
		*err = bad_arg(f->param, "must be a UUID");
		return -1;
	case FK_ENUM:
		if (in_list(f->values, v))
			return 0;
		*err = bad_arg(f->param, "unknown value");
		return -1;
	case FK_UINT:
	case FK_UINT_IN:
		if (parse_uint(v, UINT64_MAX, &t->u))
			return 0;
		*err = bad_arg(f->param, "must be an unsigned integer");
		return -1;
	case FK_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
			t->b = v[0] == 't';
			return 0;
		}
		*err = bad_arg(f->param, "must be true or false");
		return -1;
	default:
		return 0;
	}
}

static int order_index(const struct coll *c, const char *v)
{
	for (int i = 0; c->orders[i]; i++)
		if (strcmp(c->orders[i], v) == 0)
			return i;
	return -1;
}

static bool parse_query(const struct coll *c, const struct sim_kv *q,
			size_t nq, struct query *out, struct sim_reply *err)
{
	memset(out, 0, sizeof *out);
	out->page = 1;
	out->page_size = 50;
	for (size_t i = 0; i < nq; i++) {
		const char *k = q[i].key, *v = q[i].value ? q[i].value : "";
		const struct fdef *f;

		if (strcmp(k, "page") == 0) {
			if (!parse_uint(v, INT32_MAX, &out->page) ||
			    out->page < 1) {
				*err = bad_arg("page", "must be >= 1");
				return false;
			}
		} else if (strcmp(k, "page_size") == 0) {
			if (!parse_uint(v, 1000, &out->page_size) ||
			    out->page_size < 1) {
				*err = bad_arg("page_size",
					       "must be between 1 and 1000");
				return false;
			}
		} else if (strcmp(k, "order_by") == 0) {
			if ((out->order = order_index(c, v)) < 0) {
				*err = bad_arg("order_by", "unknown value");
				return false;
			}
		} else {
			for (f = c->filters; f->param; f++)
				if (strcmp(k, f->param) == 0)
					break;
			if (!f->param)
				continue; /* unknown parameters are ignored */
			if (out->nterms == MAX_TERMS) {
				*err = bad_arg(k, "too many values");
				return false;
			}
			if (check_term(f, v, &out->terms[out->nterms++], err))
				return false;
		}
	}
	return true;
}

static bool has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static bool has_uint(const json_t *arr, uint64_t u)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_integer(v) && (uint64_t)json_integer_value(v) == u)
			return true;
	return false;
}

static bool term_matches(const struct region *r, const struct query *q,
			 const struct term *t, const json_t *o)
{
	const json_t *v = t->f->field ? member(o, t->f->field) : NULL;
	const char *s = json_string_value(v);

	if (t->f->test)
		return t->f->test(r, o, t);
	switch (t->f->kind) {
	case FK_UUID:
	case FK_ENUM:
	case FK_STR:
		return s && strcmp(s, t->value) == 0;
	case FK_PART:
		if (q->exact_names)
			return s && strcmp(s, t->value) == 0;
		return !*t->value || (s && strstr(s, t->value));
	case FK_UINT:
		return json_is_integer(v) &&
		       (uint64_t)json_integer_value(v) == t->u;
	case FK_TAGS:
		return has_string(v, t->value);
	case FK_UINT_IN:
		return has_uint(v, t->u);
	case FK_BOOL:
		return json_is_boolean(v) && json_is_true(v) == t->b;
	case FK_UUIDS:
		return false; /* always by test */
	}
	return false;
}

/* Every filter matches; of a repeatable FK_UUIDS one, any value. */
static bool matches(const struct region *r, const struct query *q,
		    const json_t *o)
{
	for (size_t i = 0; i < q->nterms; i++) {
		const struct term *t = &q->terms[i];
		bool any = false;

		if (t->f->kind != FK_UUIDS) {
			if (!term_matches(r, q, t, o))
				return false;
			continue;
		}
		for (size_t k = 0; k < q->nterms; k++)
			if (q->terms[k].f == t->f)
				any = any || term_matches(r, q, &q->terms[k], o);
		if (!any)
			return false;
	}
	return true;
}

/* Sort keys, computed once per request (parsing times in the comparison
 * made large lists slow to serve). */
struct sortent {
	json_t *o;
	const char *name, *id;
	double t;
	int status;
};

/* What an order sorts by: 'n'ame, 'c'reated_at, 'u'pdated_at, 's'tatus;
 * and whether it is descending. */
struct sortspec {
	char by;
	bool desc;
};

static int cmp_ent(const void *pa, const void *pb, void *arg)
{
	const struct sortent *a = pa, *b = pb;
	const struct sortspec *sp = arg;
	int r;

	switch (sp->by) {
	case 'c':
	case 'u': r = (a->t > b->t) - (a->t < b->t); break;
	case 's': r = a->status - b->status; break;
	default: r = strcmp(a->name, b->name); break;
	}
	if (sp->desc)
		r = -r;
	return r ? r : strcmp(a->id, b->id);
}

static int rank(const char *const *list, const char *s)
{
	for (int i = 0; s && list && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

static void sort_key(struct sortent *e, json_t *o, const struct coll *c,
		     const struct sortspec *sp)
{
	const char *n = json_string_value(json_object_get(o, "name"));
	const char *id = json_string_value(json_object_get(o, "id"));

	e->o = o;
	e->name = n ? n : "";
	e->id = id ? id : "";
	e->status = rank(c->statuses, json_string_value(json_object_get(
		o, "status")));
	e->t = sp->by == 'c' ? sim_time(json_object_get(o, "created_at")) :
	       sp->by == 'u' ? sim_time(json_object_get(o, "updated_at")) : 0;
}

/* Everything about a query but its page, as a string. */
static char *query_key(const struct query *q)
{
	char *k = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&k, &len);

	if (!f)
		return NULL;
	fprintf(f, "%d%s", q->order, q->exact_names ? "=" : "");
	for (size_t i = 0; i < q->nterms; i++)
		fprintf(f, "|%s=%s", q->terms[i].f->param, q->terms[i].value);
	fclose(f);
	return k;
}

static json_t *sorted_list(struct region *r, const struct coll *c,
			   struct sim_memo *memo, json_t *items,
			   const struct query *q)
{
	size_t n = json_array_size(items), m = 0, i;
	const char *oname = c->orders[q->order];
	struct sortspec sp = {oname[0], strstr(oname, "_desc") != NULL};
	struct sortent *sel;
	char *key = query_key(q);
	json_t *out;

	if (key && memo->list && memo->version == r->version &&
	    strcmp(key, memo->key) == 0) {
		free(key);
		return json_incref(memo->list);
	}
	sel = malloc((n ? n : 1) * sizeof *sel);
	out = json_array();
	if (!sel || !out) {
		free(sel);
		free(key);
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		json_t *o = json_array_get(items, i);
		if (matches(r, q, o))
			sort_key(&sel[m++], o, c, &sp);
	}
	qsort_r(sel, m, sizeof *sel, cmp_ent, &sp);
	for (i = 0; i < m; i++)
		json_array_append(out, sel[i].o);
	free(sel);
	if (key) {
		sim_memo_clear(memo);
		memo->key = key;
		memo->list = json_incref(out);
		memo->version = r->version;
	}
	return out;
}

struct sim_reply simdata_list(const struct simdata *d, enum sim_coll ci,
			      const char *region, const struct sim_kv *q,
			      size_t nq, unsigned max_page_size)
{
	const struct coll *c = &colls[ci];
	struct region *r = sim_region(d, region);
	struct sim_reply err;
	struct query qq;
	json_t *sorted, *page, *body;
	uint64_t ps, first;
	size_t m;

	if (!r)
		return not_found("region", region);
	if (!parse_query(c, q, nq, &qq, &err))
		return err;
	qq.exact_names = d->exact_names;
	sorted = sorted_list(r, c, &r->memo[ci], r->items[ci], &qq);
	if (!sorted)
		return reply(500, simdata_error_body("internal", "out of memory",
						     NULL, NULL));
	ps = qq.page_size;
	if (max_page_size && ps > max_page_size)
		ps = max_page_size;
	m = json_array_size(sorted);
	page = json_array();
	first = (qq.page - 1) * ps;
	for (size_t i = first; i < m && i < first + ps; i++)
		json_array_append(page, json_array_get(sorted, i));
	json_decref(sorted);
	body = json_object();
	json_object_set_new(body, simdata_key(ci), page);
	json_object_set_new(body, "total_count", json_integer((json_int_t)m));
	return reply(200, body);
}

struct sim_reply simdata_get(const struct simdata *d, enum sim_coll ci,
			     const char *region, const char *id)
{
	struct region *r = sim_region(d, region);
	json_t *o;

	if (!r)
		return not_found("region", region);
	o = sim_find(r->items[ci], id, NULL);
	if (!o)
		return not_found(simdata_resource(ci), id);
	return reply(200, json_incref(o));
}
