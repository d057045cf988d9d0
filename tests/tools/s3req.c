/*
 * s3req.c - test tool: one S3 request signed with AWS Signature Version 4
 * (libcurl's CURLOPT_AWS_SIGV4), for tests that prepare or inspect an
 * S3-compatible store (create a bucket, read an object back).  The curl
 * command cannot do it when the access key id holds a ':' (Swift's
 * ACCOUNT:USER), as -u splits there.
 *
 *   s3req [-k CAFILE] [-r REGION] [-H HEADER]... METHOD URL KEYID SECRETFILE [BODYFILE]
 *
 * Prints the response body on stdout and "HTTP NNN" on stderr; exits 0
 * for a 2xx answer, 1 for another status, 2 usage, 3 transport error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sign.h"
#include "util.h"

int main(int argc, char **argv)
{
	const char *ca = NULL, *region = "us-east-1";
	struct curl_slist *h = NULL;
	char sigv4[128], line[128], err[256], *secret, hex[65];
	unsigned char sha[32] = { 0 };
	long status = 0;
	FILE *body = NULL;
	CURL *c;
	int opt, i;

	while ((opt = getopt(argc, argv, "k:r:H:")) != -1) {
		if (opt == 'k')
			ca = optarg;
		else if (opt == 'r')
			region = optarg;
		else if (opt == 'H')
			h = curl_slist_append(h, optarg);
		else
			return 2;
	}
	if (argc - optind != 4 && argc - optind != 5) {
		fprintf(stderr, "usage: s3req [-k CA] [-r REGION] [-H HDR]... "
			"METHOD URL KEYID SECRETFILE [BODYFILE]\n");
		return 2;
	}
	secret = util_read_secret(argv[optind + 3], err, sizeof(err));
	if (!secret) {
		fprintf(stderr, "s3req: %s\n", err);
		return 2;
	}
	c = curl_easy_init();
	if (argc - optind == 5) {
		char *data;
		size_t len;

		data = util_read_file(argv[optind + 4], 64 << 20, &len, err,
				      sizeof(err));
		if (!data) {
			fprintf(stderr, "s3req: %s\n", err);
			return 2;
		}
		sign_sha256(data, len, sha);
		free(data);
		body = fopen(argv[optind + 4], "rb");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, body);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	} else {
		sign_sha256("", 0, sha);
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
	h = curl_slist_append(h, line);
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", region);
	curl_easy_setopt(c, CURLOPT_URL, argv[optind + 1]);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, argv[optind]);
	if (!strcmp(argv[optind], "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, argv[optind + 2]);
	curl_easy_setopt(c, CURLOPT_PASSWORD, secret);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (curl_easy_perform(c) != CURLE_OK) {
		fprintf(stderr, "s3req: transport error\n");
		return 3;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	fprintf(stderr, "HTTP %ld\n", status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	util_free_secret(secret);
	if (body)
		fclose(body);
	return status >= 200 && status < 300 ? 0 : 1;
}
