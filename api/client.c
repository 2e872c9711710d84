/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client: the API client itself: its set-up from the options (the base
 * URL checked, the key held, the share of connections and TLS sessions,
 * the rate limit's ring), its counters, its cancellation tokens, and the
 * rule of a region's code. The operations are api.c's.
 */
#include "api_i.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <arpa/inet.h>

#include "log.h"

/* ---- cancellation ----------------------------------------------------- */

void api_call_init(struct api_call *c)
{
	atomic_init(&c->cancelled, 0);
	pthread_mutex_init(&c->lock, NULL);
	c->multi = NULL;
}

void api_call_destroy(struct api_call *c)
{
	pthread_mutex_destroy(&c->lock);
}

void api_call_cancel(struct api_call *c)
{
	atomic_store(&c->cancelled, 1);
	pthread_mutex_lock(&c->lock);
	if (c->multi)
		curl_multi_wakeup(c->multi);
	pthread_mutex_unlock(&c->lock);
}

/* ---- set-up ----------------------------------------------------------- */

int api_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void api_global_cleanup(void)
{
	curl_global_cleanup();
}

void api_opts_default(struct api_opts *o)
{
	memset(o, 0, sizeof *o);
	o->timeout_ms = 15000;
	o->connect_timeout_ms = 5000;
	o->max_body = 64u << 20;
	o->rate = 20;
	o->max_parallel = 8;
	o->max_retries = 3;
	o->backoff_base_ms = 200;
	o->backoff_cap_ms = 5000;
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access acc,
		       void *ud)
{
	struct api *a = ud;
	(void)h;
	(void)acc;
	pthread_mutex_lock(&a->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
	struct api *a = ud;
	(void)h;
	pthread_mutex_unlock(&a->share_lock[d]);
}

static bool host_is_loopback(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char h[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof h) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	if (inet_pton(AF_INET, host, buf) == 1)
		return buf[0] == 127;
	if (inet_pton(AF_INET6, host, buf) == 1)
		return memcmp(buf, &in6addr_loopback, sizeof in6addr_loopback)
		       == 0;
	return false;
}

/* A part of a parsed URL, or NULL when it has none. curl_free() it. */
static char *url_part(CURLU *u, CURLUPart what)
{
	char *v = NULL;

	if (curl_url_get(u, what, &v, 0) != CURLUE_OK)
		return NULL;
	return v;
}

static bool only_slashes(const char *p)
{
	return !p || strspn(p, "/") == strlen(p);
}

int api_check_url(const char *url, bool insecure, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL;
	char *frag = NULL, *user = NULL;
	int rc = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    !(scheme = url_part(u, CURLUPART_SCHEME)) ||
	    !(host = url_part(u, CURLUPART_HOST))) {
		snprintf(why, whylen, "not a URL such as "
			 "https://api.scaleway.com");
		goto out;
	}
	path = url_part(u, CURLUPART_PATH);
	query = url_part(u, CURLUPART_QUERY);
	frag = url_part(u, CURLUPART_FRAGMENT);
	user = url_part(u, CURLUPART_USER);
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
		snprintf(why, whylen, "only http and https are supported");
	else if (!only_slashes(path) || query || frag || user)
		/* interlinkfs adds /interlink/v1beta1/...: a path here
		 * would be doubled and every request would go astray. */
		snprintf(why, whylen, "give scheme://host[:port] only, such as "
			 "https://api.scaleway.com (no path, query, fragment "
			 "or user)");
	else if (strcmp(scheme, "http") == 0 && !host_is_loopback(host) &&
		 !insecure)
		snprintf(why, whylen, "plain http to a host that is not this "
			 "machine: the secret key would travel in clear; use "
			 "https (or set SCW_INSECURE=true to insist)");
	else
		rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

/* The rate limit's ring (see rate_take in transport.c): floor(rate)
 * requests (at least one) per window of one second, or of 1/rate seconds
 * under one per second. Every slot starts long past: the first requests
 * go at once. */
static int rate_ring(struct api *a)
{
	double k = floor(a->o.rate);

	a->nsent = k >= 1 ? (size_t)k : 1;
	a->window = k >= 1 ? 1.0 : 1.0 / a->o.rate;
	if (!(a->sent = malloc(a->nsent * sizeof *a->sent)))
		return -ENOMEM;
	for (size_t i = 0; i < a->nsent; i++)
		a->sent[i] = -1e18;
	return 0;
}

int api_new(const struct api_opts *o, struct api **out)
{
	struct api *a;
	struct utsname un;
	char *hdr = NULL, os[80], why[256];
	int rc;

	if (!o->base_url)
		return -EINVAL;
	rc = api_check_url(o->base_url, o->insecure, why, sizeof why);
	if (rc) {
		log_error("API URL '%s': %s", o->base_url, why);
		return rc;
	}
	a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	a->o = *o;
	if (a->o.max_parallel < 1)
		a->o.max_parallel = 1;
	if (a->o.max_parallel > MAXPAR)
		a->o.max_parallel = MAXPAR;
	a->base_url = strdup(o->base_url);
	a->secret = o->secret_key ? strdup(o->secret_key) : NULL;
	a->key_source = strdup(o->key_source ? o->key_source : "the options");
	pthread_mutex_init(&a->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&a->share_lock[i], NULL);
	atomic_init(&a->shutdown, false);
	if (!a->base_url || (o->secret_key && !a->secret) || !a->key_source ||
	    (a->o.rate > 0 && rate_ring(a)))
		goto nomem;
	for (size_t n = strlen(a->base_url); n && a->base_url[n - 1] == '/'; n--)
		a->base_url[n - 1] = '\0';
	if (net_setup(a))
		goto nomem;

	if (uname(&un) == 0) {
		snprintf(os, sizeof os, "%s", un.sysname);
		for (char *p = os; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	} else {
		snprintf(os, sizeof os, "unknown");
	}
	snprintf(a->ua, sizeof a->ua, "interlinkfs/%s (libcurl/%s; %s; %s)",
		 INTERLINKFS_VERSION, curl_version_info(CURLVERSION_NOW)->version,
		 os, uname(&un) == 0 ? un.machine : "unknown");

	/* The key's header first (api_free wipes it), when there is a key:
	 * behind a gateway there is none to send. */
	if (a->secret) {
		if (asprintf(&hdr, "X-Auth-Token: %s", a->secret) < 0)
			goto nomem;
		a->headers = curl_slist_append(NULL, hdr);
		explicit_bzero(hdr, strlen(hdr));
		free(hdr);
		if (!a->headers)
			goto nomem;
	}
	a->headers = curl_slist_append(a->headers, "Accept: application/json");
	if (!a->headers)
		goto nomem;

	a->share = curl_share_init();
	if (!a->share)
		goto nomem;
	curl_share_setopt(a->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(a->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(a->share, CURLSHOPT_USERDATA, a);
	curl_share_setopt(a->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(a->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	a->debug = log_enabled(LOGL_DEBUG);
	if (o->insecure)
		log_warn("insecure is set: TLS certificates of %s are not "
			 "verified", a->base_url);
	*out = a;
	return 0;
nomem:
	api_free(a);
	return -ENOMEM;
}

void api_shutdown(struct api *a)
{
	atomic_store(&a->shutdown, true);
	pthread_mutex_lock(&a->lock);
	for (struct worker *w = a->active; w; w = w->anext)
		curl_multi_wakeup(w->multi);
	pthread_mutex_unlock(&a->lock);
}

void api_free(struct api *a)
{
	if (!a)
		return;
	while (a->free_workers) {
		struct worker *w = a->free_workers;
		a->free_workers = w->next;
		transport_worker_free(w);
	}
	if (a->share)
		curl_share_cleanup(a->share);
	if (a->headers) {
		/* The first header holds the key, if any. */
		if (a->secret)
			explicit_bzero(a->headers->data,
				       strlen(a->headers->data));
		curl_slist_free_all(a->headers);
	}
	if (a->secret) {
		explicit_bzero(a->secret, strlen(a->secret));
		free(a->secret);
	}
	free(a->base_url);
	free(a->sent);
	free(a->proxy);
	free(a->key_source);
	pthread_mutex_destroy(&a->lock);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&a->share_lock[i]);
	free(a);
}

const char *api_base_url(const struct api *a)
{
	return a->base_url;
}

const char *api_user_agent(const struct api *a)
{
	return a->ua;
}

void api_get_stats(struct api *a, struct api_stats *s)
{
	s->api_requests = atomic_load(&a->n.api_requests);
	s->api_errors = atomic_load(&a->n.api_errors);
	s->api_retries = atomic_load(&a->n.api_retries);
	s->api_rate_limited = atomic_load(&a->n.api_rate_limited);
	s->api_bytes = atomic_load(&a->n.api_bytes);
	s->api_fast_failures = atomic_load(&a->n.api_fast_failures);
	s->api_records_skipped = atomic_load(&a->n.api_records_skipped);
}

bool api_region_valid(const char *r)
{
	if (!r || strlen(r) != 6 || r[2] != '-')
		return false;
	for (int i = 0; i < 6; i++)
		if (i != 2 && (r[i] < 'a' || r[i] > 'z'))
			return false;
	return true;
}
