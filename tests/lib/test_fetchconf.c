/*
 * test_fetchconf.c - dircat-fetch's configuration: the manifest URL as
 * written (the limit at N and N + 1 bytes, URLs libcurl accepts that do
 * not name SCHEME://HOST/.../FILE), and a configuration that loads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fetchconf.h"
#include "sign.h"

static char dir[4096], conf[4200], inbox[4200], key[4200];

/* Load a configuration with manifest_url = url: the configuration or
 * NULL with err. */
static struct fetchconf *load(const char *url, char *err, size_t errlen)
{
	FILE *f = fopen(conf, "w");

	if (!f)
		return NULL;
	fprintf(f, "manifest_url = %s\ncatalog_id = corp\n"
		"trusted_key = %s.pub\ninbox = %s\nstate_dir = %s/state\n",
		url, key, inbox, dir);
	fclose(f);
	err[0] = '\0';
	return fetchconf_load(conf, err, errlen);
}

static void test_url(void)
{
	char url[FETCHCONF_URL_MAX + 2], err[1024];
	static const char *const refused[] = {
		"http:/origin.example/dircat/corp.manifest",	/* libcurl: ok */
		"https://origin.example/",
		"https://origin.example",
		"ftp://origin.example/corp.manifest",
		"https://u:p@origin.example/corp.manifest",
		"https://origin.example/corp.manifest?x=1",
	};
	struct fetchconf *c;
	size_t i, pre, post;

	c = load("https://origin.example/dircat/corp.manifest", err,
		 sizeof(err));
	CHECK(c != NULL, "a valid configuration loads (%s)", err);
	if (c)
		CHECK_STR(c->base_url, "https://origin.example/dircat/",
			  "base_url: the manifest URL up to its last '/'");
	fetchconf_free(c);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		c = load(refused[i], err, sizeof(err));
		CHECK(c == NULL && strstr(err, "fetch.conf:1: manifest_url: "),
		      "manifest_url = %s: refused, naming file and line (%s)",
		      refused[i], err);
		fetchconf_free(c);
	}
	/* FETCHCONF_URL_MAX bytes, then one more. */
	pre = strlen("https://origin.example/");
	post = strlen("/corp.manifest");
	memcpy(url, "https://origin.example/", pre);
	memset(url + pre, 'a', FETCHCONF_URL_MAX - pre - post);
	memcpy(url + FETCHCONF_URL_MAX - post, "/corp.manifest", post + 1);
	c = load(url, err, sizeof(err));
	CHECK(c != NULL && strlen(c->manifest_url) == FETCHCONF_URL_MAX,
	      "manifest_url of %d bytes: accepted (%s)", FETCHCONF_URL_MAX,
	      err);
	fetchconf_free(c);
	memmove(url + pre + 1, url + pre, FETCHCONF_URL_MAX - pre + 1);
	c = load(url, err, sizeof(err));
	CHECK(c == NULL && strstr(err, "longer than 2048 bytes"),
	      "manifest_url of %d bytes: refused (%s)", FETCHCONF_URL_MAX + 1,
	      err);
	fetchconf_free(c);
}

int main(void)
{
	char id[SIGN_KEY_ID_HEX], err[512], pub[4300];

	if (check_mkdtemp(dir, sizeof(dir), "fetchconf") < 0) {
		printf("FAIL: mkdtemp\n");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/fetch.conf", dir);
	snprintf(inbox, sizeof(inbox), "%s/inbox", dir);
	snprintf(key, sizeof(key), "%s/signer", dir);
	if (mkdir(inbox, 0755) < 0 || sign_keygen(key, id, err, sizeof(err)) < 0) {
		printf("FAIL: setup: %s\n", err);
		return 1;
	}
	test_url();
	snprintf(pub, sizeof(pub), "%s.pub", key);
	unlink(pub);
	snprintf(pub, sizeof(pub), "%s.key", key);
	unlink(pub);
	unlink(conf);
	rmdir(inbox);
	rmdir(dir);
	return check_done();
}
