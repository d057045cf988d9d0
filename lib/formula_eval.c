/*
 * formula_eval.c - run a compiled formula (formula_code.h) against one
 * entry's values, without allocating.
 *
 * Values are never copied.  Every operand is read as a "virtual list":
 * formula_count() says how many values it has and formula_item() produces
 * value i on the stack, computing @Length, @Count and @BitAnd results on
 * the fly.  @LowerCase and @UpperCase need no work at all: every
 * comparison in the language already folds ASCII case, so they cannot
 * change any result.  Substring search is the Two-Way algorithm (linear
 * time, constant space) so long values cost no more than reading them.
 * The recursion is no deeper than the formula's nesting (FORMULA_MAX_DEPTH).
 */
#include "formula.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formula_code.h"

/* ---------------------------------------------------------------------- */
/* Evaluation                                                              */
/* ---------------------------------------------------------------------- */

/*
 * One value of an operand, produced on the stack.  A computed number has
 * no text (ptr NULL) until a string comparison renders it.  none marks a
 * value with no result (@BitAnd of a non-integer): it matches nothing.
 */
struct formula_item {
	const unsigned char *ptr;
	size_t len;
	int64_t num;
	signed char isint;	/* 1 yes, 0 no, -1 not parsed yet */
	bool none;
};

/* Decimal text of v, written to the end of buf[24]; returns its start. */
static const unsigned char *formula_render(int64_t v, unsigned char *buf,
					   size_t *len)
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	unsigned char *e = buf + 24, *s = e;

	do {
		*--s = (unsigned char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--s = '-';
	*len = (size_t)(e - s);
	return s;
}

/* Whether the item is an integer, parsing its text once. */
static bool formula_item_int(struct formula_item *it)
{
	if (it->isint < 0)
		it->isint = (signed char)formula_parse_int(it->ptr, it->len,
							   &it->num);
	return it->isint == 1;
}

/* Text of the item: its own bytes, or its number rendered into buf[24]. */
static const unsigned char *formula_item_text(const struct formula_item *it,
					      unsigned char *buf, size_t *len)
{
	if (it->ptr != NULL) {
		*len = it->len;
		return it->ptr;
	}
	return formula_render(it->num, buf, len);
}

/* Number of values of a value-list node. */
static size_t formula_count(const struct formula *f,
			    const struct formula_node *n,
			    const struct formula_vals *vals)
{
	switch (n->op) {
	case FOP_ATTR:
		return vals != NULL ? vals[n->attr].n : 0;
	case FOP_LIT:
	case FOP_COUNT:
		return 1;
	case FOP_LIST:
		return n->nkids;
	default:	/* FOP_CASE, FOP_LENGTH, FOP_BITAND: one per value */
		return formula_count(f, &f->nodes[n->kid], vals);
	}
}

/* Value i (< formula_count()) of a value-list node. */
static void formula_item(const struct formula *f,
			 const struct formula_node *n,
			 const struct formula_vals *vals, size_t i,
			 struct formula_item *it)
{
	struct formula_item sub;

	it->none = false;
	switch (n->op) {
	case FOP_ATTR:
		it->ptr = (const unsigned char *)vals[n->attr].v[i].ptr;
		it->len = vals[n->attr].v[i].len;
		it->isint = -1;
		return;
	case FOP_LIT:
		it->ptr = (const unsigned char *)f->pool + n->off;
		it->len = n->len;
		it->num = n->num;
		it->isint = n->lit_isint;
		return;
	case FOP_LIST:
		formula_item(f, &f->nodes[n->kid + i], vals, 0, it);
		return;
	case FOP_CASE:
		/* Every comparison folds case: nothing to convert. */
		formula_item(f, &f->nodes[n->kid], vals, i, it);
		return;
	case FOP_COUNT:
		it->ptr = NULL;
		it->num = (int64_t)formula_count(f, &f->nodes[n->kid], vals);
		it->isint = 1;
		return;
	case FOP_LENGTH:
		formula_item(f, &f->nodes[n->kid], vals, i, &sub);
		it->ptr = NULL;
		it->isint = 1;
		it->none = sub.none;
		if (sub.ptr != NULL) {
			it->num = sub.len > INT64_MAX ? INT64_MAX :
			    (int64_t)sub.len;
		} else {
			unsigned char buf[24];
			size_t len;

			formula_render(sub.num, buf, &len);
			it->num = (int64_t)len;
		}
		return;
	case FOP_BITAND:
		formula_item(f, &f->nodes[n->kid], vals, i, &sub);
		it->ptr = NULL;
		it->isint = 1;
		it->none = sub.none || !formula_item_int(&sub);
		it->num = it->none ? 0 : sub.num & n->num;
		return;
	default:
		abort();	/* a condition used as a value: the parser forbids it */
	}
}

/* Three-way comparison: numeric when both are integers, else folded bytes. */
static int formula_compare(struct formula_item *a, struct formula_item *b)
{
	unsigned char abuf[24], bbuf[24];
	const unsigned char *as, *bs;
	size_t alen, blen, n;

	if (formula_item_int(a) && formula_item_int(b))
		return (a->num > b->num) - (a->num < b->num);
	as = formula_item_text(a, abuf, &alen);
	bs = formula_item_text(b, bbuf, &blen);
	n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = formula_fold(as[i]), y = formula_fold(bs[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return (alen > blen) - (alen < blen);
}

/* Equality, with the cheap length test first when one side is not a number. */
static bool formula_equal(struct formula_item *a, struct formula_item *b)
{
	unsigned char abuf[24], bbuf[24];
	const unsigned char *as, *bs;
	size_t alen, blen;

	if (formula_item_int(a) && formula_item_int(b))
		return a->num == b->num;
	as = formula_item_text(a, abuf, &alen);
	bs = formula_item_text(b, bbuf, &blen);
	return alen == blen && formula_fold_equal(as, bs, alen);
}

/*
 * The start (minus one) of the maximal suffix of n[0..l), ASCII case
 * folded, under the byte order (reverse 0) or its opposite (reverse 1);
 * its period in *period.  Part of the Two-Way search below.
 */
static size_t formula_max_suffix(const unsigned char *n, size_t l,
				 int reverse, size_t *period)
{
	size_t ip = (size_t)-1, jp = 0, k = 1, p = 1;

	while (jp + k < l) {
		unsigned char a = formula_fold(n[ip + k]);
		unsigned char b = formula_fold(n[jp + k]);

		if (a == b) {
			if (k == p) {
				jp += p;
				k = 1;
			} else {
				k++;
			}
		} else if (reverse ? a < b : a > b) {
			jp += k;
			k = 1;
			p = jp - ip;
		} else {
			ip = jp++;
			k = p = 1;
		}
	}
	*period = p;
	return ip;
}

/*
 * Whether needle n[0..l) occurs in h[0..hl), ASCII case folded: the
 * Two-Way algorithm of Crochemore and Perrin, as in musl's memmem but
 * without its shift table.  Linear in hl + l with constant space, so a
 * long attribute value searched for a long value costs no more than
 * reading both.
 */
static bool formula_search(const unsigned char *h, size_t hl,
			   const unsigned char *n, size_t l)
{
	size_t ip, k, p, ms, p0, mem, mem0, pos;

	if (l == 0)
		return true;
	if (l > hl)
		return false;
	if (l == 1) {
		for (size_t i = 0; i < hl; i++)
			if (formula_fold(h[i]) == formula_fold(n[0]))
				return true;
		return false;
	}

	/* The critical factorisation: the later of the two maximal suffixes
	 * (one per order of the alphabet), with its period. */
	ms = formula_max_suffix(n, l, 0, &p0);
	ip = formula_max_suffix(n, l, 1, &p);
	if (ip + 1 > ms + 1)
		ms = ip;
	else
		p = p0;

	/* A periodic needle lets matched text be remembered across shifts. */
	if (!formula_fold_equal(n, n + p, ms + 1)) {
		mem0 = 0;
		p = (ms > l - ms - 1 ? ms : l - ms - 1) + 1;
	} else {
		mem0 = l - p;
	}
	mem = 0;

	for (pos = 0; hl - pos >= l;) {
		/* Right half first ... */
		for (k = ms + 1 > mem ? ms + 1 : mem;
		     k < l && formula_fold(n[k]) == formula_fold(h[pos + k]);
		     k++)
			;
		if (k < l) {
			pos += k - ms;
			mem = 0;
			continue;
		}
		/* ... then the left half. */
		for (k = ms + 1;
		     k > mem &&
		     formula_fold(n[k - 1]) == formula_fold(h[pos + k - 1]);
		     k--)
			;
		if (k <= mem)
			return true;
		pos += p;
		mem = mem0;
	}
	return false;
}

/* Whether a comparison or string test holds for one pair of values. */
static bool formula_pair(enum formula_op op, struct formula_item *a,
			 struct formula_item *b)
{
	unsigned char abuf[24], bbuf[24];
	const unsigned char *as, *bs;
	size_t alen, blen;

	switch (op) {
	case FOP_EQ:
	case FOP_MEMBER:
		return formula_equal(a, b);
	case FOP_LT:
		return formula_compare(a, b) < 0;
	case FOP_GT:
		return formula_compare(a, b) > 0;
	case FOP_LE:
		return formula_compare(a, b) <= 0;
	case FOP_GE:
		return formula_compare(a, b) >= 0;
	default:
		break;
	}
	as = formula_item_text(a, abuf, &alen);
	bs = formula_item_text(b, bbuf, &blen);
	switch (op) {
	case FOP_CONTAINS:
		return formula_search(as, alen, bs, blen);
	case FOP_BEGINS:
		return blen <= alen && formula_fold_equal(as, bs, blen);
	case FOP_ENDS:
		return blen <= alen &&
		       formula_fold_equal(as + alen - blen, bs, blen);
	default:
		abort();	/* not a pairwise operator */
	}
}

/* Whether op holds for ANY pair (value of left, value of right). */
static bool formula_any_pair(const struct formula *f, enum formula_op op,
			     const struct formula_node *left,
			     const struct formula_vals *vals)
{
	const struct formula_node *right = &f->nodes[left->next];
	size_t na = formula_count(f, left, vals);
	size_t nb = formula_count(f, right, vals);
	struct formula_item a, b;

	if (nb == 0)
		return false;
	for (size_t i = 0; i < na; i++) {
		formula_item(f, left, vals, i, &a);
		if (a.none)
			continue;
		for (size_t j = 0; j < nb; j++) {
			formula_item(f, right, vals, j, &b);
			if (!b.none && formula_pair(op, &a, &b))
				return true;
		}
	}
	return false;
}

/* Value of a condition node; && and || short-circuit. */
static bool formula_cond(const struct formula *f,
			 const struct formula_node *n,
			 const struct formula_vals *vals)
{
	const struct formula_node *k;

	switch (n->op) {
	case FOP_TRUE:
		return true;
	case FOP_FALSE:
		return false;
	case FOP_AND:
		for (k = &f->nodes[n->kid]; ;
		     k = &f->nodes[k->next]) {
			if (!formula_cond(f, k, vals))
				return false;
			if (k->next == FORMULA_NONE)
				return true;
		}
	case FOP_OR:
		for (k = &f->nodes[n->kid]; ;
		     k = &f->nodes[k->next]) {
			if (formula_cond(f, k, vals))
				return true;
			if (k->next == FORMULA_NONE)
				return false;
		}
	case FOP_NOT:
		return !formula_cond(f, &f->nodes[n->kid], vals);
	case FOP_AVAILABLE:
		return formula_count(f, &f->nodes[n->kid], vals) > 0;
	case FOP_UNAVAILABLE:
		return formula_count(f, &f->nodes[n->kid], vals) == 0;
	case FOP_NE:
		/* The deliberate rule: a != b is !(a = b), see formula.h. */
		return !formula_any_pair(f, FOP_EQ, &f->nodes[n->kid], vals);
	case FOP_EQ:
	case FOP_LT:
	case FOP_GT:
	case FOP_LE:
	case FOP_GE:
	case FOP_MEMBER:
	case FOP_CONTAINS:
	case FOP_BEGINS:
	case FOP_ENDS:
		return formula_any_pair(f, (enum formula_op)n->op,
					&f->nodes[n->kid], vals);
	default:
		abort();	/* a value used as a condition: the parser forbids it */
	}
}

int formula_eval(const struct formula *f, const struct formula_vals *vals)
{
	if (f == NULL)
		return 0;
	return formula_cond(f, &f->nodes[f->root], vals) ? 1 : 0;
}
