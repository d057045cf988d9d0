#!/bin/bash
# ad-population.sh BASE BULK - print the LDIF (ldapmodify input) of the
# recipients an Exchange site has, for the Samba DC of the tests, under
# the domain naming context BASE, with BULK more mailbox users in
# OU=Bulk (more than AD's MaxPageSize of 1000 in one search).  What each
# entry must give in the catalog is in ad-expected.txt beside this file;
# the comments here say why.
#
# userAccountControl: 512 normal account, +2 disabled, +32 no password
# required (for accounts created without one), 65536 password never
# expires.  msExchRecipientTypeDetails: 1 user mailbox, 2 linked, 4 shared,
# 16 room, 32 equipment, 128 mail user, 2147483648 remote (hybrid) user
# mailbox, 34359738368 remote shared mailbox.
set -eu
base=$1
bulk=${2:-1100}

# unicodePwd: the password in double quotes, UTF-16LE, base64.
pw() { printf '"%s"' "$1" | iconv -f UTF-8 -t UTF-16LE | base64 -w0; }

cat <<EOF
dn: OU=Staff,$base
changetype: add
objectClass: organizationalUnit

dn: OU=Munich,OU=Staff,$base
changetype: add
objectClass: organizationalUnit

dn: OU=Resources,$base
changetype: add
objectClass: organizationalUnit

dn: OU=Groups,$base
changetype: add
objectClass: organizationalUnit

dn: OU=Contacts,$base
changetype: add
objectClass: organizationalUnit

dn: OU=Service Accounts,$base
changetype: add
objectClass: organizationalUnit

dn: OU=Bulk,$base
changetype: add
objectClass: organizationalUnit

dn: CN=Microsoft Exchange System Objects,$base
changetype: add
objectClass: container

# The aggregator's account: no mailbox, no special rights.
dn: CN=svc-dircat,OU=Service Accounts,$base
changetype: add
objectClass: user
sAMAccountName: svc-dircat
userPrincipalName: svc-dircat@corp.example.com
unicodePwd:: $(pw 'Svc-D1rcat-Pw!')
userAccountControl: 66048

# A user mailbox: primary SMTP: in mixed case, secondary smtp: in both
# local domains, next to X500:, SIP: and x400: addresses.
dn: CN=John Smith,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: jsmith
unicodePwd:: $(pw 'Js-Passw0rd!x')
userAccountControl: 66048
mail: John.Smith@example.com
proxyAddresses: SMTP:John.Smith@Example.COM
proxyAddresses: smtp:jsmith@example.com
proxyAddresses: smtp:john.smith@example.org
proxyAddresses: X500:/o=Corp/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=jsmith
proxyAddresses: SIP:john.smith@example.com
proxyAddresses: x400:c=US;a= ;p=Corp;o=Exchange;s=Smith;g=John;
msExchRecipientTypeDetails: 1

dn: CN=Mary Jones,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: mjones
userAccountControl: 544
proxyAddresses: SMTP:mary.jones@example.com
proxyAddresses: sip:Mary.Jones@example.com
msExchRecipientTypeDetails: 1

# Created in OU=Staff, moved to OU=Munich below: the group it manages
# follows it (managedBy is a linked attribute).
dn: CN=Lee\, Ann,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: alee
userAccountControl: 544
proxyAddresses: SMTP:ann.lee@example.com
msExchRecipientTypeDetails: 1

# A leaver: disabled user mailbox.  Out.
dn: CN=Bob Gone,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: bgone
userAccountControl: 546
proxyAddresses: SMTP:bob.gone@example.com
msExchRecipientTypeDetails: 1

# Another leaver, other flags beside bit 2 (66050 = 65536 + 512 + 2).  Out.
dn: CN=Carol Left,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: cleft
unicodePwd:: $(pw 'Cl-Passw0rd!x')
userAccountControl: 66050
proxyAddresses: SMTP:carol.left@example.com
msExchRecipientTypeDetails: 1

# Hidden from the address lists: still a valid recipient.  In.
dn: CN=Dana Hidden,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: dhidden
userAccountControl: 544
proxyAddresses: SMTP:dana.hidden@example.com
msExchRecipientTypeDetails: 1
msExchHideFromAddressLists: TRUE

# Only X500: and SIP: addresses: nothing to publish.  Out.
dn: CN=Eve Nosmtp,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: enosmtp
userAccountControl: 544
proxyAddresses: X500:/o=Corp/ou=First Administrative Group/cn=Recipients/cn=eve
proxyAddresses: SIP:eve@example.com

# A mail user: enabled account whose mail goes elsewhere (targetAddress);
# its local address is accepted here and forwarded.  In, local address only.
dn: CN=Mike Remote,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: mremote
userAccountControl: 544
targetAddress: SMTP:mike@partner.example.net
proxyAddresses: SMTP:mike.remote@example.com
proxyAddresses: smtp:mike@partner.example.net
msExchRecipientTypeDetails: 128

# Hybrid: the on-premises account of a mailbox in the cloud.  In.
dn: CN=Rita Cloud,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: rcloud
userAccountControl: 544
targetAddress: SMTP:rita.cloud@corp.mail.onmicrosoft.example
proxyAddresses: SMTP:rita.cloud@example.com
proxyAddresses: smtp:rita.cloud@corp.mail.onmicrosoft.example
msExchRecipientTypeDetails: 2147483648

# A linked mailbox: a disabled account by design (its owner logs in from
# another forest).  In.
dn: CN=Linus Linked,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: llinked
userAccountControl: 546
proxyAddresses: SMTP:linus.linked@example.com
msExchRecipientTypeDetails: 2

# A computer account is of class user too, and enabled.  Out.
dn: CN=WS01,OU=Staff,$base
changetype: add
objectClass: computer
sAMAccountName: WS01\$
userAccountControl: 4096
proxyAddresses: SMTP:ws01@example.com

# Hostile values: whoever may edit proxyAddresses (a help desk, a
# synchronisation tool) writes what they like.  Only the one valid
# address is published; the others are reported as invalid.
dn: CN=Mallory Values,OU=Staff,$base
changetype: add
objectClass: user
sAMAccountName: mvalues
userAccountControl: 544
proxyAddresses: SMTP:mallory@example.com
proxyAddresses: smtp:no-at-sign
proxyAddresses: smtp:two@@example.com
proxyAddresses: smtp:spaces in@example.com
proxyAddresses: smtp:$(printf 'a%.0s' $(seq 300))@example.com
proxyAddresses:: $(printf 'smtp:x@example.com\r\nRCPT TO:<y@example.com>' | base64 -w0)
proxyAddresses:: $(printf 'smtp:nul\000byte@example.com' | base64 -w0)
msExchRecipientTypeDetails: 1

# Shared, room and equipment mailboxes: disabled accounts that receive
# mail.  In, as mail-in.
dn: CN=Helpdesk,OU=Resources,$base
changetype: add
objectClass: user
sAMAccountName: helpdesk
userAccountControl: 546
proxyAddresses: SMTP:helpdesk@example.com
proxyAddresses: smtp:Support@Example.ORG
msExchRecipientTypeDetails: 4

dn: CN=Room 101,OU=Resources,$base
changetype: add
objectClass: user
sAMAccountName: room101
userAccountControl: 546
proxyAddresses: SMTP:room101@example.com
msExchRecipientTypeDetails: 16

dn: CN=Projector 1,OU=Resources,$base
changetype: add
objectClass: user
sAMAccountName: projector1
userAccountControl: 546
proxyAddresses: SMTP:projector1@example.com
msExchRecipientTypeDetails: 32

# A shared mailbox hidden from the address lists.  In.
dn: CN=Journal,OU=Resources,$base
changetype: add
objectClass: user
sAMAccountName: journal
userAccountControl: 546
proxyAddresses: SMTP:journal@example.com
msExchRecipientTypeDetails: 4
msExchHideFromAddressLists: TRUE

# Hybrid: a shared mailbox moved to the cloud, still a disabled account
# here.  In.
dn: CN=Billing,OU=Resources,$base
changetype: add
objectClass: user
sAMAccountName: billing
userAccountControl: 546
targetAddress: SMTP:billing@corp.mail.onmicrosoft.example
proxyAddresses: SMTP:billing@example.com
msExchRecipientTypeDetails: 34359738368

# Mail-enabled universal security group (groupType 0x80000008), managed by
# a user that moves to another OU below.  In.
dn: CN=Finance,OU=Groups,$base
changetype: add
objectClass: group
sAMAccountName: Finance
groupType: -2147483640
proxyAddresses: SMTP:finance@example.com
managedBy: CN=Lee\, Ann,OU=Staff,$base

# Universal distribution group (groupType 8).  In.
dn: CN=Sales,OU=Groups,$base
changetype: add
objectClass: group
sAMAccountName: Sales
groupType: 8
proxyAddresses: SMTP:sales@example.com
proxyAddresses: smtp:vertrieb@example.org
proxyAddresses: X500:/o=Corp/ou=First Administrative Group/cn=Recipients/cn=sales
managedBy: CN=Mary Jones,OU=Staff,$base

# A distribution group hidden from the address lists.  In.
dn: CN=Board,OU=Groups,$base
changetype: add
objectClass: group
sAMAccountName: Board
groupType: 8
proxyAddresses: SMTP:board@example.com
msExchHideFromAddressLists: TRUE

# A security group that is not mail-enabled.  Out.
dn: CN=IT Admins,OU=Groups,$base
changetype: add
objectClass: group
sAMAccountName: ITAdmins
groupType: -2147483646

# A group with a mail attribute but no proxyAddresses: not mail-enabled
# in Exchange, which accepts nothing for it.  Out.
dn: CN=Old List,OU=Groups,$base
changetype: add
objectClass: group
sAMAccountName: OldList
groupType: 8
mail: oldlist@example.com

# A dynamic distribution group: no members stored, a filter instead.  In.
dn: CN=All Staff,OU=Groups,$base
changetype: add
objectClass: msExchDynamicDistributionList
proxyAddresses: SMTP:all-staff@example.com
proxyAddresses: smtp:everyone@example.org
msExchQueryFilter: (RecipientType -eq 'UserMailbox')

# Mail-enabled public folders, hidden from the address lists as Exchange
# makes them by default.  In, as mail-in.
dn: CN=Support Archive,CN=Microsoft Exchange System Objects,$base
changetype: add
objectClass: publicFolder
proxyAddresses: SMTP:support-archive@example.com
msExchHideFromAddressLists: TRUE

dn: CN=Press,CN=Microsoft Exchange System Objects,$base
changetype: add
objectClass: publicFolder
proxyAddresses: SMTP:press@example.org
proxyAddresses: X500:/o=Corp/ou=Exchange Administrative Group/cn=Recipients/cn=press
msExchHideFromAddressLists: TRUE

# A contact: its address is outside (targetAddress).  Nothing published,
# the outside address reported as foreign.
dn: CN=Frank Forward,OU=Contacts,$base
changetype: add
objectClass: contact
targetAddress: SMTP:frank@partner.example.net
proxyAddresses: SMTP:frank@partner.example.net
msExchRecipientTypeDetails: 64

# A contact with an address in a local domain too (an address policy
# gave it one): mail to that address is accepted and forwarded.  In,
# local address only.
dn: CN=Pat Partner,OU=Contacts,$base
changetype: add
objectClass: contact
targetAddress: SMTP:pat@partner.example.net
proxyAddresses: SMTP:pat@partner.example.net
proxyAddresses: smtp:pat.partner@example.com
msExchRecipientTypeDetails: 64

# Moves between OUs.
dn: CN=Lee\, Ann,OU=Staff,$base
changetype: modrdn
newrdn: CN=Lee\, Ann
deleteoldrdn: 1
newsuperior: OU=Munich,OU=Staff,$base

dn: CN=Dana Hidden,OU=Staff,$base
changetype: modrdn
newrdn: CN=Dana Hidden
deleteoldrdn: 1
newsuperior: OU=Resources,$base

EOF

# Bulk mailboxes; every 100th one disabled (a leaver).
for i in $(seq -f %04g 1 "$bulk"); do
	uac=544
	[ $((10#$i % 100)) -eq 0 ] && uac=546
	printf 'dn: CN=Bulk User %s,OU=Bulk,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: bulk%s\nuserAccountControl: %s\nproxyAddresses: SMTP:bulk%s@example.com\nproxyAddresses: X500:/o=Corp/cn=bulk%s\nmsExchRecipientTypeDetails: 1\n\n' \
		"$i" "$base" "$i" "$uac" "$i" "$i"
done
