/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outcome: what one attempt came to, from libcurl's result and the HTTP
 * status: the errno a user sees (the one table of interlinkfs), whether
 * another attempt is worth it, and whether the API answered at all. Pure.
 */
#include "api_i.h"

#include <errno.h>

bool outcome_tls_failure(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return true;
	default:
		return false;
	}
}

int api_errno(long status, int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_ABORTED_BY_CALLBACK:
		return -EINTR;
	default:
		/* The TLS peer could not be trusted (or no TLS connection
		 * could be made): "Protocol error", never mistaken for an
		 * answer of the API. */
		return outcome_tls_failure(curl_code) ? -EPROTO :
		       -EIO; /* reset, truncated, body too large ... */
	}
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 400: return -EINVAL;
	case 401:
	case 403: return -EACCES;
	case 404: return -ENOENT;
	case 429: return -EAGAIN;
	default: return -EIO; /* 5xx after retries, 3xx, other 4xx */
	}
}

int outcome_proxy_errno(long status)
{
	/* 407: no or wrong credentials for the proxy; 403: not allowed
	 * there. Either is the user's to fix, as a refused key is. */
	return status == 403 || status == 407 ? -EACCES : -EIO;
}

/* Failures of the connection that another attempt may not meet. TLS and
 * protocol errors are not among them: they would fail the same way. */
static bool curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

struct outcome outcome_of(int curl_code, long status)
{
	struct outcome o = {api_errno(status, curl_code), false, false};

	if (curl_code != CURLE_OK) {
		o.retry = curl_retryable((CURLcode)curl_code);
		/* Nothing came back in time: the requests that follow would
		 * wait just as long (see transport.c's back-off). */
		o.no_answer = curl_code == CURLE_OPERATION_TIMEDOUT;
	} else {
		o.retry = status == 429 || status >= 500;
	}
	return o;
}
