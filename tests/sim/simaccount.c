/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simaccount: interlink-sim's accounts. Each --account TOKEN=SEED is an
 * account of its own: its token, its data (generated from its seed, with
 * the regions and size of the command line) and whether it is revoked.
 * The account of --token (or, without any --account, of any non-empty
 * token) is "default", with the data of --seed or --data. A request is
 * answered from the data of the account its token belongs to, so two
 * tokens never see each other's objects; the request log names the
 * account, never the token.
 */
#include "sim_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_account_add(struct sim *s, const char *spec, const char *regions,
		    unsigned nconn)
{
	const char *eq = strrchr(spec, '=');
	struct account *v, *a;
	char *end = NULL;
	unsigned long long seed;
	int rc;

	if (!eq || eq == spec || !eq[1]) {
		fprintf(stderr, "interlink-sim: --account wants TOKEN=SEED\n");
		return -1;
	}
	seed = strtoull(eq + 1, &end, 10);
	if (*end) {
		fprintf(stderr, "interlink-sim: --account: not a seed: %s\n",
			eq + 1);
		return -1;
	}
	v = realloc(s->accounts, (s->naccounts + 1) * sizeof *v);
	if (!v)
		return -1;
	s->accounts = v;
	a = &v[s->naccounts];
	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "account%zu", s->naccounts + 1);
	a->token = strndup(spec, (size_t)(eq - spec));
	if (!a->token)
		return -1;
	rc = simdata_generate(&a->data, regions, nconn, seed);
	if (rc < 0) {
		free(a->token);
		fprintf(stderr, "interlink-sim: %s\n", strerror(-rc));
		return -1;
	}
	s->naccounts++;
	return 0;
}

const struct simdata *sim_account_auth(struct sim *s, const char *tok,
				       const char **auth, const char **name)
{
	*name = NULL;
	if (!tok || !*tok)
		return NULL;
	for (size_t i = 0; i < s->naccounts; i++) {
		struct account *a = &s->accounts[i];
		if (strcmp(tok, a->token) != 0)
			continue;
		if (a->revoked) {
			*auth = "revoked";
			return NULL;
		}
		*auth = "ok";
		*name = a->name;
		return a->data;
	}
	/* With accounts and no --token, no other token is any account's. */
	if (s->accounts_only || (s->token && strcmp(tok, s->token) != 0))
		return NULL;
	*auth = "ok";
	*name = "default";
	return s->data;
}

struct simdata *sim_account_data(struct sim *s, const char *name)
{
	if (!name || strcmp(name, "default") == 0)
		return s->data;
	for (size_t i = 0; i < s->naccounts; i++)
		if (strcmp(name, s->accounts[i].name) == 0)
			return s->accounts[i].data;
	return NULL;
}

int sim_account_revoke(struct sim *s, json_t *in, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(in, "account"));
	json_t *rv = json_object_get(in, "revoked");

	if (!name || (rv && !json_is_boolean(rv))) {
		snprintf(err, errlen, "want {\"account\": NAME, \"revoked\": "
			 "true|false}");
		return -EINVAL;
	}
	for (size_t i = 0; i < s->naccounts; i++) {
		if (strcmp(name, s->accounts[i].name) == 0) {
			s->accounts[i].revoked = !rv || json_is_true(rv);
			return 0;
		}
	}
	snprintf(err, errlen, "no account %s (the --account options are "
		 "account1, account2 ... in their order)", name);
	return -ENOENT;
}

void sim_accounts_free(struct sim *s)
{
	for (size_t i = 0; i < s->naccounts; i++) {
		free(s->accounts[i].token);
		simdata_free(s->accounts[i].data);
	}
	free(s->accounts);
	s->accounts = NULL;
	s->naccounts = 0;
}
