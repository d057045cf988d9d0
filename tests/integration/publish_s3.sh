#!/bin/bash
# publish_s3.sh - the replicator publishes to a real S3-compatible store
# (OpenStack Swift with its s3api middleware, from Debian's packages) with
# AWS Signature Version 4; a node pulls from the store's public URL into
# catalogd; a chain of deltas; retired objects deleted; a wrong secret
# and an unknown bucket are refused with a clear message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
. "$(dirname "$0")/swift-lib.sh"
need swift-proxy-server swift-ring-builder openssl curl runuser ss

top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
swift_start "$top" || { fail "swift did not start"; exit 1; }
check "bucket created (public-read)" \
	s3req -H "x-amz-acl: public-read" PUT "$SWIFT_URL/dircat-bucket"

rep_records 1 300 | rep_catalog >/dev/null		# serial 1
rep_conf "$top/s3.conf" <<EOF
retries = 1
retry_delay = 1s
[publish store]
url = s3://dircat-bucket/corp/
s3_endpoint = $SWIFT_URL
s3_access_key_id = $SWIFT_KEY_ID
s3_secret_key_file = $SWIFT_SECRET
ca_file = $SWIFT_CA
keep_deltas = 2
EOF
rep_run -c "$top/s3.conf" -v
check_eq "publish to S3: exit status" "$REP_RC" 0
check_match "publish to S3: reported" "$REP_OUT" 'publish store +published epoch/serial 0/1'
obj=$SWIFT_PUBLIC/dircat-bucket/corp
check_match "manifest readable at the public URL" \
	"$(curl -s --cacert "$SWIFT_CA" "$obj/corp.manifest")" '^dircat-manifest 1'
check_match "manifest stored with its Cache-Control" \
	"$(curl -s -D - -o /dev/null --cacert "$SWIFT_CA" "$obj/corp.manifest")" \
	'Cache-Control: max-age=5'
full=$(curl -s --cacert "$SWIFT_CA" "$obj/corp.manifest" | sed -n 's/^full \([^ ]*\) .*/\1/p')
check_match "snapshot stored immutable" \
	"$(curl -s -D - -o /dev/null --cacert "$SWIFT_CA" "$obj/$full")" \
	'Cache-Control: max-age=31536000, immutable'
s3req GET "$SWIFT_URL/dircat-bucket/corp/$full" >"$top/full.s3"
check "the S3 copy is the spool's, byte for byte" \
	cmp -s "$top/full.s3" "$REP_DIR/spool/corp.1.full.snap"

# --- a node pulls from the store ------------------------------------------
catd_init "$top/n1/catd"
catd_conf "trusted_key = $REP_PUB"
catd_start || exit 1
fleet_node "$top/n1" "$obj/corp.manifest" "$REP_PUB" \
	"inbox = $CATD_DIR/inbox" "ca_file = $SWIFT_CA"
fleet_fetch "$top/n1"
check_eq "fetch from S3: exit status" "$FETCH_RC" 0
check "catalogd installed serial 1" catd_wait_serial 1
for s in 2 3 4; do
	rep_records 1 $((300 + s)) | rep_catalog >/dev/null
	rep_run -c "$top/s3.conf"
	check_eq "publish serial $s to S3" "$REP_RC" 0
done
check_eq "keep_deltas = 2: the manifest lists two deltas" \
	"$(curl -s --cacert "$SWIFT_CA" "$obj/corp.manifest" | grep -c '^delta ')" 2
fleet_fetch "$top/n1"
check_eq "fetch serial 4: exit status" "$FETCH_RC" 0
check "catalogd installed serial 4" catd_wait_serial 4
check "node 1 (at 1) got the full snapshot: the chain no longer starts at 1" \
	wait_for 10 grep -Eq 'installed corp\.4\.full\.snap' "$CATD_LOG"
check_eq "retired objects deleted a run later: serial 1's full snapshot is gone" \
	"$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SWIFT_CA" "$obj/$full")" 404
# Swift, like Amazon S3, answers 304 to If-Modified-Since even when
# If-None-Match does not match.  A node whose Last-Modified is not older
# than the new manifest's (serial 5 written within the second serial 4
# was: the date here is in the future, so that it is so at any speed)
# must still get serial 5: it asks with the ETag alone.
lm=$(fleet_state "$top/n1" last_modified)
check "node 1 keeps the manifest's ETag and Last-Modified" \
	test -n "$(fleet_state "$top/n1" etag)" -a -n "$lm"
sed -i "s/^last_modified = .*/last_modified = $(LC_ALL=C TZ=GMT date -d '+1 hour' '+%a, %d %b %Y %H:%M:%S GMT')/" \
	"$top/n1/state/corp.state"
rep_records 1 310 | rep_catalog >/dev/null		# serial 5
rep_run -c "$top/s3.conf"
fleet_fetch "$top/n1"
check "catalogd installed serial 5" catd_wait_serial 5
check "serial 5 came as a delta from the store" wait_for 10 grep -Eq 'installed corp\.4-5\.delta\.snap' "$CATD_LOG"

# Manifests published one right after the other each get a Last-Modified
# of their own: the replicator replaces a manifest only once the store's
# clock is past the second it was written in.
lms=
for s in 6 7 8; do
	rep_records 1 $((310 + s)) | rep_catalog >/dev/null
	rep_run -c "$top/s3.conf"
	check_eq "publish serial $s right after the one before" "$REP_RC" 0
	lms="$lms$(curl -s -D - -o /dev/null --cacert "$SWIFT_CA" "$obj/corp.manifest" |
		tr -d '\r' | sed -n 's/^[Ll]ast-[Mm]odified: *//p')
"
done
check_eq "three manifests in a row: three Last-Modified dates" \
	"$(grep -c . <<<"$lms")/$(sort -u <<<"$lms" | grep -c .)" 3/3
fleet_fetch "$top/n1"
check "catalogd installed serial 8" catd_wait_serial 8

# --- refusals -------------------------------------------------------------
printf 'wrong\n' >"$top/wrong.secret"
chmod 600 "$top/wrong.secret"
sed "s|^s3_secret_key_file = .*|s3_secret_key_file = $top/wrong.secret|" \
	"$top/s3.conf" >"$top/wrong.conf"
rep_records 1 330 | rep_catalog >/dev/null		# serial 9
rep_run -c "$top/wrong.conf"
check_eq "wrong secret: exit 69" "$REP_RC" 69
check_match "wrong secret: says so" "$REP_ERR" \
	'publish store: fetching corp.manifest: 127.0.0.1:[0-9]+ answered HTTP 403 \(credentials refused\)'
check_match "wrong secret: the store's reason quoted" "$REP_ERR" 'SignatureDoesNotMatch'
check "wrong secret: no secret in any message" test -z "$(grep -e wrong -e testing <<<"$REP_ERR" | grep -v SignatureDoesNotMatch)"
check_eq "wrong secret: the manifest still says serial 8" \
	"$(curl -s --cacert "$SWIFT_CA" "$obj/corp.manifest" | sed -n 's/^serial //p')" 8
sed 's|^url = .*|url = s3://no-such-bucket/corp/|' "$top/s3.conf" >"$top/nobucket.conf"
rep_run -c "$top/nobucket.conf"
check_eq "unknown bucket: exit 69" "$REP_RC" 69
check_match "unknown bucket: the store's answer" "$REP_ERR" 'publish store: .*HTTP 404.*NoSuchBucket'
chmod 644 "$SWIFT_SECRET"
rep_run -c "$top/s3.conf" -C
check_eq "secret key file readable by others: refused" "$REP_RC" 78
check_match "secret key file readable by others: named" "$REP_ERR" 's3_secret_key_file'
chmod 600 "$SWIFT_SECRET"
catd_stop
exit 0
