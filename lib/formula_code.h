/*
 * formula_code.h - the compiled form of a selection formula, shared by
 * the parser that builds it (formula_parse.c) and the evaluator that runs
 * it (formula_eval.c); nothing outside these two includes it.
 * A formula is one block: an array of nodes linked by 16-bit indexes
 * (FORMULA_NONE: no node), then the pool of literal bytes.
 */
#ifndef DIRCAT_FORMULA_CODE_H
#define DIRCAT_FORMULA_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formula.h"

#define FORMULA_NONE		UINT16_MAX	/* "no node" in a link */

/* ASCII case folding only: other bytes compare exactly, whatever locale. */
static inline unsigned char formula_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static inline bool formula_fold_equal(const unsigned char *a,
				      const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (formula_fold(a[i]) != formula_fold(b[i]))
			return false;
	return true;
}

enum formula_op {
	/* conditions */
	FOP_TRUE, FOP_FALSE, FOP_AND, FOP_OR, FOP_NOT,
	FOP_EQ, FOP_NE, FOP_LT, FOP_GT, FOP_LE, FOP_GE,
	FOP_AVAILABLE, FOP_UNAVAILABLE, FOP_MEMBER,
	FOP_CONTAINS, FOP_BEGINS, FOP_ENDS,
	/* value lists */
	FOP_ATTR, FOP_LIT, FOP_LIST, FOP_CASE, FOP_COUNT, FOP_LENGTH,
	FOP_BITAND
};

/*
 * One node.  Operands: kid is the first, each operand's next the one after
 * it.  A literal list's items are the nkids nodes from kid on, contiguous,
 * so item i is found without walking.
 */
struct formula_node {
	uint8_t op;		/* enum formula_op */
	uint8_t cond;		/* 1: yields true/false; 0: a list of values */
	int8_t lit_isint;	/* FOP_LIT: 1 if the text is an integer */
	uint16_t kid;
	uint16_t next;
	uint16_t nkids;		/* FOP_AND, FOP_OR, FOP_LIST */
	uint16_t attr;		/* FOP_ATTR: index in the attrs table */
	uint32_t pos;		/* byte offset in the text, for errors */
	uint32_t off, len;	/* FOP_LIT: bytes in the pool */
	int64_t num;		/* FOP_LIT integer value; FOP_BITAND mask */
};

struct formula {
	const char *pool;	/* literal bytes, after the nodes */
	uint16_t root;
	struct formula_node nodes[];
};

/*
 * Parse s[0..len) as an integer: optional sign, decimal digits, within
 * int64.  Anything else (spaces, "1e3", "0x10", overflow) is not one and
 * is then compared as a string.
 */
bool formula_parse_int(const unsigned char *s, size_t len, int64_t *out);

#endif
