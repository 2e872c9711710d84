/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net: the way to the API. The certificates to trust (a CA file, a CA
 * directory), this host's client certificate (for a fleet gateway that
 * authenticates hosts by it), the proxy the environment names (libcurl
 * itself reads https_proxy, no_proxy and the others; this file only
 * learns which one so that failures name it, without its credentials),
 * and failures described by where they happened: the TLS peer, or the
 * proxy.
 */
#include "api_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The variables libcurl reads for a URL of this scheme, in its order. */
static const char *proxy_env(const char *scheme, const char **name)
{
	static const char *const https[] = {"https_proxy", "HTTPS_PROXY",
					    "all_proxy", "ALL_PROXY", NULL};
	/* libcurl ignores HTTP_PROXY (a CGI program's environment can set
	 * it from a request header). */
	static const char *const http[] = {"http_proxy", "all_proxy",
					   "ALL_PROXY", NULL};
	const char *const *v = strcmp(scheme, "https") == 0 ? https : http;

	for (; *v; v++) {
		const char *s = getenv(*v);
		if (s && *s) {
			*name = *v;
			return s;
		}
	}
	return NULL;
}

/* The proxy's URL without credentials (which are redacted from every
 * log line), its host and port. */
static int learn_proxy(struct api *a, const char *url, const char *var)
{
	CURLU *u = curl_url();
	char *user = NULL, *pass = NULL, *host = NULL, *port = NULL;
	char *shown = NULL;
	int rc = -ENOMEM;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME |
			 CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		/* libcurl will refuse it too, and say so per request. */
		rc = asprintf(&a->proxy, "the proxy in %s", var) < 0 ?
		     -ENOMEM : 0;
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	log_redact(user);
	log_redact(pass);
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	if (curl_url_get(u, CURLUPART_URL, &shown, 0) != CURLUE_OK)
		goto out;
	snprintf(a->proxy_host, sizeof a->proxy_host, "%s", host ? host : "");
	a->proxy_port = port ? strtol(port, NULL, 10) : 0;
	rc = asprintf(&a->proxy, "proxy %s (from %s)", shown, var) < 0 ?
	     -ENOMEM : 0;
out:
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(port);
	curl_free(shown);
	curl_url_cleanup(u);
	return rc;
}

int net_setup(struct api *a)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	const char *url, *var = NULL;
	int rc = 0;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, a->base_url, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	}
	snprintf(a->api_host, sizeof a->api_host, "%s:%s", host ? host : "?",
		 port ? port : "?");
	url = proxy_env(scheme ? scheme : "https", &var);
	if (url)
		rc = learn_proxy(a, url, var);
	if (!rc && a->o.ca_file)
		log_info("trusting the certificates in %s", a->o.ca_file);
	if (!rc && a->o.cert_file)
		log_info("presenting the client certificate in %s",
			 a->o.cert_file);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

void net_easy(const struct api *a, CURL *e)
{
	if (a->o.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, a->o.ca_file);
	if (a->o.ca_path)
		curl_easy_setopt(e, CURLOPT_CAPATH, a->o.ca_path);
	if (a->o.cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, a->o.cert_file);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY, a->o.key_file);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

/* Did the server end the TLS session with an alert about this host's
 * certificate? A server that wants client certificates sends one when
 * none came or the one that came is refused (with TLS 1.3 after the
 * handshake, so libcurl may see it as a failed read). OpenSSL's words. */
static bool refused_client(CURLcode cc, const char *msg)
{
	static const char *const alerts[] = {
		"alert certificate required", "alert bad certificate",
		"alert unknown ca", "alert certificate revoked",
		"alert certificate expired", "alert certificate unknown",
		"alert unsupported certificate", "alert access denied",
		NULL,
	};

	if (cc != CURLE_SSL_CONNECT_ERROR && cc != CURLE_RECV_ERROR &&
	    cc != CURLE_SEND_ERROR)
		return false;
	for (const char *const *p = alerts; *p; p++)
		if (strstr(msg, *p))
			return true;
	return false;
}

/* Does libcurl's message say it could not connect to the proxy? It names
 * the host and port it tried: the proxy's, when one is in use. */
static bool at_proxy(const struct api *a, const char *msg)
{
	char want[300];

	if (!a->proxy || !a->proxy_port)
		return false;
	snprintf(want, sizeof want, " %s port %ld ", a->proxy_host,
		 a->proxy_port);
	return strstr(msg, want) != NULL;
}

int net_describe(const struct api *a, CURLcode cc, long connect,
		 const char *curl_msg, char *msg, size_t len)
{
	if (connect >= 300) {
		snprintf(msg, len, "the %s refused the tunnel to %s: HTTP %ld%s",
			 a->proxy ? a->proxy : "proxy", a->api_host, connect,
			 connect == 407 ? " (proxy authentication required)" :
			 connect == 403 ? " (forbidden by the proxy)" : "");
		return outcome_proxy_errno(connect);
	}
	if (cc == CURLE_COULDNT_RESOLVE_PROXY ||
	    (cc == CURLE_COULDNT_CONNECT && at_proxy(a, curl_msg))) {
		snprintf(msg, len, "cannot reach the %s: %s",
			 a->proxy ? a->proxy : "proxy", curl_msg);
		return 0;
	}
	if (refused_client(cc, curl_msg)) {
		/* Refused, as a key is: the user's to fix, at once. */
		snprintf(msg, len, "TLS with %s failed: the server refused "
			 "this host's client certificate (%s%s): %s",
			 a->api_host, a->o.cert_file ? "cert_file=" :
			 "none was given; see cert_file and key_file",
			 a->o.cert_file ? a->o.cert_file : "", curl_msg);
		return -EACCES;
	}
	if (outcome_tls_failure(cc)) {
		bool host = strstr(curl_msg, "subject name") ||
			    strstr(curl_msg, "host name");
		snprintf(msg, len, "TLS with %s failed: %s%s%s", a->api_host,
			 host ? "host name mismatch: " : "", curl_msg,
			 cc == CURLE_PEER_FAILED_VERIFICATION ||
			 cc == CURLE_SSL_CACERT_BADFILE ?
			 " (see ca_file, SSL_CERT_FILE, SSL_CERT_DIR)" :
			 cc == CURLE_SSL_CERTPROBLEM ?
			 " (see cert_file and key_file)" : "");
		return 0;
	}
	snprintf(msg, len, "%s", curl_msg);
	return 0;
}
