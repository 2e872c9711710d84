/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter: the list filters of the InterLink API, in one place.
 *
 * A mount narrows what it shows with filters (-o project_id=, status=, ...).
 * This module knows each filter's form, the query parameters a listing
 * sends for those the API is certain to apply as we do (filter_query), and
 * the rule applied on this side to every entry, so that an object fetched
 * by id (or a listing from an API that ignored or read a parameter
 * differently) is held to exactly what a listing shows. Pure functions;
 * thread-safe.
 */
#ifndef INTERLINKFS_FILTER_H
#define INTERLINKFS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

/* The filters and order of a list. Unset fields are NULL; every string is
 * borrowed. */
struct api_filters {
	const char *project_id;       /* UUID */
	const char *organization_id;  /* UUID */
	const char *name;             /* part of the name */
	const char *status;           /* a documented status */
	const char *pop_id;           /* UUID */
	const char *bandwidth_mbps;   /* unsigned integer, decimal */
	const char *const *tags;      /* every one of them */
	size_t ntags;
	const char *order_by;
};

/*
 * Is value a valid value for the filter called name ("project_id",
 * "organization_id", "pop_id", "status", "bandwidth_mbps", "name", "tags"
 * (one tag))? 0, or -EINVAL with the reason, one line for the user, in why.
 * Names this module does not know are -ENOENT.
 */
int filter_check(const char *name, const char *value, char *why,
		 size_t whylen);

/* Does obj (borrowed) pass every filter set in f? A filter whose field is
 * missing or of the wrong type does not pass. */
bool filter_match(const struct api_filters *f, const json_t *obj);

/* Appends to u, URL-encoded, the query parameters of the filters of f the
 * API applies as this module does (not name, not tags), and its order.
 * 0, or -ENOMEM / -EINVAL. */
int filter_query(const struct api_filters *f, CURLU *u);

/* The documented statuses of a dedicated connection, NULL-terminated. */
extern const char *const filter_statuses[];

/* Is s one of them? */
bool filter_status_known(const char *s);

#endif
