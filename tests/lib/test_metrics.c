/*
 * test_metrics.c - the Prometheus text exposition: label values escaped
 * and kept valid UTF-8, families and samples, the catalog families, the
 * buffer limit, and reading a value back (metrics_find).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

/* The series for one label value, or "(null)". */
static const char *series1(const char *v, char *out, size_t size)
{
	const char *s = metrics_series("m", "l", v, NULL, NULL, out, size);

	return s ? s : "(null)";
}

/* b's text as a string. */
static const char *text(struct buf *b)
{
	if (buf_append(b, "", 1) < 0)
		return "(full)";
	b->len--;
	return (const char *)b->data;
}

int main(void)
{
	char s[METRICS_SERIES_MAX], small[16], big[300];
	struct metrics m;
	struct catalog_info ci;
	struct buf b;
	int64_t v;
	const char *doc;

	/* Series and label values. */
	CHECK_STR(metrics_series("dircat_x", NULL, NULL, NULL, NULL, s,
				 sizeof(s)), "dircat_x", "no labels");
	CHECK_STR(metrics_series("m", "a", "1", "b", "two", s, sizeof(s)),
		  "m{a=\"1\",b=\"two\"}", "two labels, in order");
	CHECK_STR(series1("say \"hi\"", s, sizeof(s)), "m{l=\"say \\\"hi\\\"\"}",
		  "double quote escaped");
	CHECK_STR(series1("a\\b", s, sizeof(s)), "m{l=\"a\\\\b\"}",
		  "backslash escaped");
	CHECK_STR(series1("a\nb", s, sizeof(s)), "m{l=\"a\\nb\"}",
		  "newline escaped");
	CHECK_STR(series1("a\tb\rc\x7f", s, sizeof(s)), "m{l=\"a?b?c?\"}",
		  "other control characters replaced");
	CHECK_STR(series1("Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x93\xa7", s,
			  sizeof(s)),
		  "m{l=\"Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x93\xa7\"}",
		  "valid UTF-8 kept");
	CHECK_STR(series1("a\xffz\xc3", s, sizeof(s)), "m{l=\"a?z?\"}",
		  "invalid bytes and a cut sequence replaced");
	CHECK_STR(series1("\xc0\xaf", s, sizeof(s)), "m{l=\"??\"}",
		  "overlong encoding replaced");
	CHECK_STR(series1("\xed\xa0\x80", s, sizeof(s)), "m{l=\"???\"}",
		  "surrogate replaced");
	CHECK_STR(series1("", s, sizeof(s)), "m{l=\"\"}", "empty value");
	CHECK(metrics_series("m", "l", "0123456789", NULL, NULL, small,
			     sizeof(small)) == NULL, "too long for out: NULL");
	CHECK(metrics_series("m", "l", "\"\"\"\"\"", NULL, NULL, small,
			     sizeof(small)) == NULL,
	      "escapes counted against the size");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(metrics_series("m", "l", big, "k", big, s, sizeof(s)) != NULL,
	      "two values of 299 bytes fit METRICS_SERIES_MAX");

	/* Families and samples. */
	buf_init(&b, 4096);
	metrics_init(&m, &b);
	metrics_family(&m, "dircat_t_total", "counter", "A counter.");
	metrics_u64(&m, "map", "recipients", "result", "ok",
		    18446744073709551615ULL);
	metrics_gauge(&m, "dircat_g", "A gauge.", -5);
	metrics_family(&m, "dircat_d_seconds", "gauge", "A duration.");
	metrics_f64(&m, NULL, NULL, NULL, NULL, 1.23456);
	metrics_f64(&m, "x", "nan", NULL, NULL, NAN);
	CHECK(!m.failed, "no failure");
	CHECK_STR(text(&b),
		  "# HELP dircat_t_total A counter.\n"
		  "# TYPE dircat_t_total counter\n"
		  "dircat_t_total{map=\"recipients\",result=\"ok\"} "
		  "18446744073709551615\n"
		  "# HELP dircat_g A gauge.\n"
		  "# TYPE dircat_g gauge\n"
		  "dircat_g -5\n"
		  "# HELP dircat_d_seconds A duration.\n"
		  "# TYPE dircat_d_seconds gauge\n"
		  "dircat_d_seconds 1.235\n"
		  "dircat_d_seconds{x=\"nan\"} 0.000\n",
		  "exposition text");
	buf_free(&b);

	/* A family of one sample, each kind. */
	buf_init(&b, 4096);
	metrics_init(&m, &b);
	metrics_counter(&m, "dircat_c_total", "A counter.",
			18446744073709551615ULL);
	metrics_gauge_f64(&m, "dircat_f_seconds", "A fraction.", 0.5);
	CHECK(!m.failed, "one-sample families: no failure");
	CHECK_STR(text(&b),
		  "# HELP dircat_c_total A counter.\n"
		  "# TYPE dircat_c_total counter\n"
		  "dircat_c_total 18446744073709551615\n"
		  "# HELP dircat_f_seconds A fraction.\n"
		  "# TYPE dircat_f_seconds gauge\n"
		  "dircat_f_seconds 0.500\n",
		  "metrics_counter and metrics_gauge_f64");
	buf_free(&b);

	buf_init(&b, 4096);
	metrics_init(&m, &b);
	metrics_u64(&m, NULL, NULL, NULL, NULL, 1);
	CHECK(m.failed && b.len == 0, "a sample without a family fails");
	buf_free(&b);

	buf_init(&b, 64);
	metrics_init(&m, &b);
	metrics_gauge(&m, "dircat_a_rather_long_name", "Help that is long.",
		      1);
	CHECK(m.failed, "over the buffer's maximum: failed");
	buf_free(&b);

	/* The catalog. */
	memset(&ci, 0, sizeof(ci));
	util_copy_fit(ci.id, "corp", sizeof(ci.id));
	buf_init(&b, 8192);
	metrics_init(&m, &b);
	metrics_catalog(&m, &ci, 1000, 0);
	doc = text(&b);
	CHECK(strstr(doc, "\ndircat_catalog_serial 0\n") != NULL,
	      "nothing installed: serial 0");
	CHECK(strstr(doc, "dircat_catalog_age_seconds") == NULL &&
	      strstr(doc, "dircat_catalog_expires") == NULL &&
	      strstr(doc, "dircat_catalog_installed") == NULL,
	      "nothing installed: no age, expiry or install time");
	CHECK(strstr(doc, "dircat_catalog_info{catalog_id=\"corp\","
			  "key_id=\"\"} 1\n") != NULL, "info with empty key id");
	buf_free(&b);
	ci.serial = 7;
	ci.created = 400;
	ci.expires = 900;
	ci.installed = 500;
	ci.count[CATALOG_PERSON] = 3;
	ci.count[CATALOG_DOMAIN] = 1;
	buf_init(&b, 8192);
	metrics_init(&m, &b);
	metrics_catalog(&m, &ci, 1000, 1);
	doc = text(&b);
	CHECK(strstr(doc, "\ndircat_catalog_serial 7\n") &&
	      strstr(doc, "\ndircat_catalog_created_timestamp_seconds 400\n") &&
	      strstr(doc, "\ndircat_catalog_age_seconds 600\n") &&
	      strstr(doc, "\ndircat_catalog_expires_timestamp_seconds 900\n") &&
	      strstr(doc,
		     "\ndircat_catalog_installed_timestamp_seconds 500\n") &&
	      strstr(doc, "\ndircat_catalog_stale 1\n") &&
	      strstr(doc, "\ndircat_catalog_records{kind=\"person\"} 3\n") &&
	      strstr(doc, "\ndircat_catalog_records{kind=\"group\"} 0\n") &&
	      strstr(doc, "\ndircat_catalog_records{kind=\"domain\"} 1\n"),
	      "installed: every value");

	/* Reading back. */
	CHECK(metrics_find(doc, b.len, "dircat_catalog_serial", &v) == 0 &&
	      v == 7, "find a sample");
	CHECK(metrics_find(doc, b.len, "dircat_catalog_records{kind=\"domain\"}",
			   &v) == 0 && v == 1, "find a labelled sample");
	CHECK(metrics_find(doc, b.len, "dircat_catalog", &v) < 0,
	      "a prefix of a name is not the name");
	CHECK(metrics_find(doc, b.len, "dircat_nothing", &v) < 0,
	      "absent: -1");
	CHECK(metrics_find(doc, b.len - 1, "dircat_catalog_records{kind="
			   "\"domain\"}", &v) == 0 && v == 1,
	      "the last line without its newline");
	buf_free(&b);
	doc = "m -12\nn 1.5\no 99999999999999999999\np \nq 3 1700000000\n";
	CHECK(metrics_find(doc, strlen(doc), "m", &v) == 0 && v == -12,
	      "negative value");
	CHECK(metrics_find(doc, strlen(doc), "n", &v) < 0, "not an integer");
	CHECK(metrics_find(doc, strlen(doc), "o", &v) < 0, "out of range");
	CHECK(metrics_find(doc, strlen(doc), "p", &v) < 0, "empty value");
	CHECK(metrics_find(doc, strlen(doc), "q", &v) < 0,
	      "a timestamp after the value");
	CHECK(metrics_find("m 5", 1, "m", &v) < 0,
	      "bounded by the length given");
	return check_done();
}
