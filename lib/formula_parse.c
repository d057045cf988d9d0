/*
 * formula_parse.c - compile selection formulas: the attribute table, a
 * hand-written lexer and a recursive-descent parser that type-check the
 * text and build the small tree of formula_code.h in one block of memory,
 * which formula_eval.c then runs.
 *
 * Bounds: the parser's recursion is limited by FORMULA_MAX_DEPTH; "&" and
 * "|" build one n-ary node rather than a left-leaning chain, so the tree,
 * and with it the evaluator's recursion, is no deeper than the nesting.
 * Every limit is in formula.h.
 */
#include "formula.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formula_code.h"
#include "utf8.h"

/* Limits of the parser's own; the others are in formula.h. */
#define FORMULA_ATTR_SLOTS	512	/* hash slots: a power of two, >= 2x */
#define FORMULA_EXCERPT		24	/* source bytes quoted in an error */

/* ---------------------------------------------------------------------- */
/* Attribute table                                                         */
/* ---------------------------------------------------------------------- */

struct formula_attrs {
	size_t count;
	uint16_t slot[FORMULA_ATTR_SLOTS];	/* index + 1; 0 is empty */
	unsigned char len[FORMULA_MAX_ATTRS];
	char name[FORMULA_MAX_ATTRS][FORMULA_MAX_NAME + 1];
};

static bool formula_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool formula_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A letter, then letters, digits and hyphens: an LDAP attribute name. */
static bool formula_name_valid(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;

	if (name == NULL || len == 0 || len > FORMULA_MAX_NAME ||
	    !formula_is_alpha(s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!formula_is_alpha(s[i]) && !formula_is_digit(s[i]) &&
		    s[i] != '-')
			return false;
	return true;
}

/* FNV-1a over folded bytes, so "Mail" and "mail" share a slot. */
static uint32_t formula_attr_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= formula_fold((unsigned char)name[i]);
		h *= 16777619u;
	}
	return h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t formula_attr_slot(const struct formula_attrs *a,
				const char *name, size_t len)
{
	size_t s = formula_attr_hash(name, len) & (FORMULA_ATTR_SLOTS - 1);

	/* Never more than half full, so the probe always ends. */
	while (a->slot[s] != 0) {
		size_t i = a->slot[s] - 1u;

		if (a->len[i] == len &&
		    formula_fold_equal((const unsigned char *)a->name[i],
				       (const unsigned char *)name, len))
			return s;
		s = (s + 1) & (FORMULA_ATTR_SLOTS - 1);
	}
	return s;
}

struct formula_attrs *formula_attrs_new(void)
{
	return calloc(1, sizeof(struct formula_attrs));
}

void formula_attrs_free(struct formula_attrs *a)
{
	free(a);
}

int formula_attrs_find(const struct formula_attrs *a, const char *name,
		       size_t len)
{
	size_t s;

	if (a == NULL || name == NULL || len == 0 || len > FORMULA_MAX_NAME)
		return -1;
	s = formula_attr_slot(a, name, len);
	return a->slot[s] != 0 ? (int)(a->slot[s] - 1u) : -1;
}

int formula_attrs_add(struct formula_attrs *a, const char *name, size_t len)
{
	size_t s;

	if (a == NULL || !formula_name_valid(name, len))
		return -1;
	s = formula_attr_slot(a, name, len);
	if (a->slot[s] != 0)
		return (int)(a->slot[s] - 1u);
	if (a->count >= FORMULA_MAX_ATTRS)
		return -1;
	memcpy(a->name[a->count], name, len);
	a->name[a->count][len] = '\0';
	a->len[a->count] = (unsigned char)len;
	a->slot[s] = (uint16_t)(a->count + 1);
	return (int)a->count++;
}

size_t formula_attrs_count(const struct formula_attrs *a)
{
	return a != NULL ? a->count : 0;
}

const char *formula_attrs_name(const struct formula_attrs *a, size_t i)
{
	return a != NULL && i < a->count ? a->name[i] : NULL;
}

/* Forget names added after the first count, so a failed compile leaves no trace. */
static void formula_attrs_truncate(struct formula_attrs *a, size_t count)
{
	if (count >= a->count)
		return;
	a->count = count;
	memset(a->slot, 0, sizeof(a->slot));
	for (size_t i = 0; i < count; i++)
		a->slot[formula_attr_slot(a, a->name[i], a->len[i])] =
		    (uint16_t)(i + 1);
}

/* ---------------------------------------------------------------------- */
/* Parser                                                                  */
/* ---------------------------------------------------------------------- */

enum formula_tok {
	FT_EOF, FT_NAME, FT_FUNC, FT_STRING, FT_INT,
	FT_LPAREN, FT_RPAREN, FT_SEMI, FT_COLON,
	FT_AND, FT_OR, FT_NOT,
	FT_EQ, FT_NE, FT_LT, FT_GT, FT_LE, FT_GE,
	FT_ERR
};

struct formula_token {
	enum formula_tok type;
	size_t start, end;	/* source bytes */
	uint32_t off, len;	/* FT_STRING, FT_INT: bytes in the pool */
	int64_t num;		/* FT_INT */
};

struct formula_parser {
	const char *text;
	size_t textlen;
	size_t pos;			/* lexer: next byte to read */
	struct formula_token tok;	/* the current token */
	struct formula_attrs *attrs;
	struct formula_node *nodes;
	size_t nnodes, nodecap;
	char *pool;			/* textlen + 1 bytes: never grows */
	size_t poollen;
	unsigned depth;
	char *err;
	size_t errlen;
	bool failed;
};

/*
 * Copy src[0..len) into dst as printable ASCII, other bytes as \xHH, at
 * most FORMULA_EXCERPT source bytes then "...": error text must be safe to
 * print in a log or a terminal whatever the formula holds.
 */
static void formula_escape(char *dst, size_t dstlen, const char *src,
			   size_t len)
{
	size_t o = 0;
	size_t n = len > FORMULA_EXCERPT ? FORMULA_EXCERPT : len;

	if (dstlen == 0)
		return;
	for (size_t i = 0; i < n && o + 5 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f) {
			dst[o++] = (char)c;
		} else {
			int w = snprintf(dst + o, dstlen - o, "\\x%02X", c);

			if (w < 0 || (size_t)w >= dstlen - o)
				break;
			o += (size_t)w;
		}
	}
	if (n < len && o + 3 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* Line and column (1-based, columns in bytes) of text offset at. */
static void formula_line_col(const char *text, size_t at, size_t *line,
			     size_t *col)
{
	size_t l = 1, bol = 0;

	for (size_t i = 0; i < at; i++)
		if (text[i] == '\n') {
			l++;
			bol = i + 1;
		}
	*line = l;
	*col = at - bol + 1;
}

/* Record the first error, at text offset at; later ones are consequences. */
__attribute__((format(printf, 3, 4)))
static void formula_fail(struct formula_parser *p, size_t at,
			 const char *fmt, ...)
{
	char msg[320];
	size_t line, col;
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->tok.type = FT_ERR;
	p->tok.end = p->tok.start;
	if (p->err == NULL || p->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	formula_line_col(p->text, at, &line, &col);
	snprintf(p->err, p->errlen, "line %zu, column %zu: %s", line, col,
		 msg);
}

/* How the current token reads in an error: 'x', string "x", end of formula. */
static const char *formula_describe(const struct formula_parser *p,
				    char *buf, size_t len)
{
	char esc[4 * FORMULA_EXCERPT + 8];
	const struct formula_token *t = &p->tok;

	if (t->type == FT_EOF || t->type == FT_ERR) {
		/* FT_ERR: the message is not shown; keep it harmless. */
		snprintf(buf, len, "end of formula");
	} else if (t->type == FT_STRING) {
		formula_escape(esc, sizeof(esc), p->text + t->start + 1,
			       t->end - t->start - 2);
		snprintf(buf, len, "string \"%s\"", esc);
	} else {
		formula_escape(esc, sizeof(esc), p->text + t->start,
			       t->end - t->start);
		snprintf(buf, len, "'%s'", esc);
	}
	return buf;
}

/*
 * Parse s[0..len) as an integer: optional sign, decimal digits, within
 * int64.  Anything else (spaces, "1e3", "0x10", overflow) is not one and
 * is then compared as a string.
 */
bool formula_parse_int(const unsigned char *s, size_t len, int64_t *out)
{
	uint64_t acc = 0, lim = INT64_MAX;
	bool neg = false;
	size_t i = 0;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		lim = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		unsigned d;

		if (!formula_is_digit(s[i]))
			return false;
		d = s[i] - '0';
		if (acc > (lim - d) / 10)
			return false;
		acc = acc * 10 + d;
	}
	if (!neg)
		*out = (int64_t)acc;
	else if (acc == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)acc;
	return true;
}

/* Lex a string literal starting at the '"' at p->pos into the pool. */
static void formula_lex_string(struct formula_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t start = p->pos, i = start + 1, n = 0;
	char *out = p->pool + p->poollen;

	for (;;) {
		unsigned char c;
		size_t step, bad;

		if (i >= p->textlen) {
			formula_fail(p, start, "unterminated string: expected "
				     "'\"' before end of formula");
			return;
		}
		c = s[i];
		if (c == '"')
			break;
		if (c == '\n' || c == '\r') {
			formula_fail(p, start, "unterminated string: expected "
				     "'\"' before end of line");
			return;
		}
		if (c == '\\') {
			unsigned char d = i + 1 < p->textlen ? s[i + 1] : 0;
			char esc[8];

			if (d != '"' && d != '\\') {
				if (i + 1 >= p->textlen) {
					formula_fail(p, start, "unterminated "
						     "string: expected '\"' "
						     "before end of formula");
					return;
				}
				formula_escape(esc, sizeof(esc),
					       (const char *)s + i + 1, 1);
				formula_fail(p, i, "bad escape '\\%s' in "
					     "string: only \\\" and \\\\ are "
					     "allowed", esc);
				return;
			}
			c = d;
			i++;
			step = 1;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			formula_fail(p, i, "control character \\x%02X in "
				     "string", c);
			return;
		} else if (c < 0x80) {
			step = 1;
		} else if ((step = utf8_seq(s + i, p->textlen - i,
						&bad)) == 0) {
			if (bad == 0)
				formula_fail(p, i, "invalid UTF-8 in string: "
					     "unexpected byte \\x%02X", c);
			else
				formula_fail(p, i, "invalid UTF-8 in string: "
					     "incomplete sequence starting "
					     "with byte \\x%02X", c);
			return;
		} else if (c == 0xC2 && s[i + 1] < 0xA0) {
			/* U+0080..U+009F: the C1 control characters. */
			formula_fail(p, i, "control character U+%04X in "
				     "string", (unsigned)s[i + 1]);
			return;
		}
		if (n + step > FORMULA_MAX_LITERAL) {
			formula_fail(p, start, "string longer than %d bytes",
				     FORMULA_MAX_LITERAL);
			return;
		}
		if (step == 1)
			out[n] = (char)c;
		else
			memcpy(out + n, s + i, step);
		n += step;
		i += step;
	}
	p->tok.type = FT_STRING;
	p->tok.off = (uint32_t)p->poollen;
	p->tok.len = (uint32_t)n;
	p->poollen += n;
	p->pos = i + 1;
}

/* Lex an integer literal ("-"? digits) at p->pos; its text goes to the pool. */
static void formula_lex_int(struct formula_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t start = p->pos, i = start + 1;

	while (i < p->textlen && formula_is_digit(s[i]))
		i++;
	if (!formula_parse_int(s + start, i - start, &p->tok.num)) {
		formula_fail(p, start, "integer out of range "
			     "(-9223372036854775808 to "
			     "9223372036854775807)");
		return;
	}
	/* The text is kept: 007 compared as a string stays "007". */
	memcpy(p->pool + p->poollen, s + start, i - start);
	p->tok.type = FT_INT;
	p->tok.off = (uint32_t)p->poollen;
	p->tok.len = (uint32_t)(i - start);
	p->poollen += i - start;
	p->pos = i;
}

/* Read the next token into p->tok; on a lexical error p->failed is set. */
static void formula_next(struct formula_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t i = p->pos;
	unsigned char c;

	if (p->failed)
		return;
	while (i < p->textlen &&
	       (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	p->pos = i;
	p->tok.start = i;
	if (i >= p->textlen) {
		p->tok.type = FT_EOF;
		p->tok.end = i;
		return;
	}
	c = s[i];
	if (c == '"') {
		formula_lex_string(p);
	} else if (formula_is_digit(c) ||
		   (c == '-' && i + 1 < p->textlen &&
		    formula_is_digit(s[i + 1]))) {
		formula_lex_int(p);
	} else if (formula_is_alpha(c)) {
		while (i < p->textlen && (formula_is_alpha(s[i]) ||
		       formula_is_digit(s[i]) || s[i] == '-'))
			i++;
		if (i - p->pos > FORMULA_MAX_NAME) {
			formula_fail(p, p->pos, "attribute name longer than "
				     "%d bytes", FORMULA_MAX_NAME);
			return;
		}
		p->tok.type = FT_NAME;
		p->pos = i;
	} else if (c == '@') {
		i++;
		while (i < p->textlen &&
		       (formula_is_alpha(s[i]) || formula_is_digit(s[i])))
			i++;
		if (i == p->pos + 1) {
			formula_fail(p, p->pos, "expected a function name "
				     "after '@'");
			return;
		}
		p->tok.type = FT_FUNC;
		p->pos = i;
	} else {
		enum formula_tok t = FT_ERR;
		unsigned char d = i + 1 < p->textlen ? s[i + 1] : 0;
		size_t w = 1;

		switch (c) {
		case '(': t = FT_LPAREN; break;
		case ')': t = FT_RPAREN; break;
		case ';': t = FT_SEMI; break;
		case ':': t = FT_COLON; break;
		case '&': t = FT_AND; break;
		case '|': t = FT_OR; break;
		case '=': t = FT_EQ; break;
		case '!':
			t = d == '=' ? FT_NE : FT_NOT;
			w = d == '=' ? 2 : 1;
			break;
		case '<':
			/* "<>" is Domino's other spelling of "!=". */
			t = d == '=' ? FT_LE : d == '>' ? FT_NE : FT_LT;
			w = d == '=' || d == '>' ? 2 : 1;
			break;
		case '>':
			t = d == '=' ? FT_GE : FT_GT;
			w = d == '=' ? 2 : 1;
			break;
		default:
			break;
		}
		if (t == FT_ERR) {
			if (c >= 0x20 && c < 0x7f)
				formula_fail(p, i, "unexpected character "
					     "'%c'", c);
			else
				formula_fail(p, i, "unexpected byte \\x%02X",
					     c);
			return;
		}
		p->tok.type = t;
		p->pos = i + w;
	}
	if (!p->failed)
		p->tok.end = p->pos;
}

/* A new node of type op at text offset pos; -1 past FORMULA_MAX_NODES. */
static int formula_node_new(struct formula_parser *p, enum formula_op op,
			    bool cond, size_t pos)
{
	struct formula_node *n;

	if (p->failed)
		return -1;
	if (p->nnodes >= FORMULA_MAX_NODES) {
		formula_fail(p, p->tok.start, "formula too large: more than "
			     "%d nodes (names, values, operators and "
			     "functions)", FORMULA_MAX_NODES);
		return -1;
	}
	if (p->nnodes == p->nodecap) {
		size_t cap = p->nodecap ? p->nodecap * 2 : 32;
		struct formula_node *grown;

		if (cap > FORMULA_MAX_NODES)
			cap = FORMULA_MAX_NODES;
		grown = realloc(p->nodes, cap * sizeof(*grown));
		if (grown == NULL) {
			formula_fail(p, pos, "out of memory");
			return -1;
		}
		p->nodes = grown;
		p->nodecap = cap;
	}
	n = &p->nodes[p->nnodes];
	memset(n, 0, sizeof(*n));
	n->op = (uint8_t)op;
	n->cond = cond;
	n->kid = FORMULA_NONE;
	n->next = FORMULA_NONE;
	n->pos = (uint32_t)pos;
	return (int)p->nnodes++;
}

/* Refuse a value where a condition belongs (operands of & | and the formula). */
static bool formula_need_cond(struct formula_parser *p, int k)
{
	if (k < 0)
		return false;
	if (p->nodes[k].cond)
		return true;
	formula_fail(p, p->nodes[k].pos, "expected a condition, found a value "
		     "(compare it with '=' or test it with @IsAvailable)");
	return false;
}

/* Refuse a condition where a value belongs; what names the operator. */
static bool formula_need_value(struct formula_parser *p, int k,
			       const char *what)
{
	if (k < 0)
		return false;
	if (!p->nodes[k].cond)
		return true;
	formula_fail(p, p->nodes[k].pos, "expected a value for %s, found a "
		     "condition", what);
	return false;
}

/* Enter one nesting level at offset pos; false past FORMULA_MAX_DEPTH. */
static bool formula_enter(struct formula_parser *p, size_t pos)
{
	if (++p->depth > FORMULA_MAX_DEPTH) {
		formula_fail(p, pos, "nesting deeper than %d levels "
			     "(parentheses, functions and '!')",
			     FORMULA_MAX_DEPTH);
		return false;
	}
	return true;
}

static int formula_parse_or(struct formula_parser *p);
static int formula_parse_unary(struct formula_parser *p);

static const struct formula_func {
	const char *name;
	enum formula_op op;
	unsigned char nargs;
	bool cond;
} formula_funcs[] = {
	{ "All",		FOP_TRUE,		0, true },
	{ "True",		FOP_TRUE,		0, true },
	{ "False",		FOP_FALSE,		0, true },
	{ "IsAvailable",	FOP_AVAILABLE,		1, true },
	{ "IsUnavailable",	FOP_UNAVAILABLE,	1, true },
	{ "IsMember",		FOP_MEMBER,		2, true },
	{ "Contains",		FOP_CONTAINS,		2, true },
	{ "Begins",		FOP_BEGINS,		2, true },
	{ "Ends",		FOP_ENDS,		2, true },
	{ "Count",		FOP_COUNT,		1, false },
	{ "Length",		FOP_LENGTH,		1, false },
	{ "BitAnd",		FOP_BITAND,		2, false },
	{ "LowerCase",		FOP_CASE,		1, false },
	{ "UpperCase",		FOP_CASE,		1, false },
};

/* The function named by the current token (@Name), or NULL after an
 * error. */
static const struct formula_func *formula_find_func(struct formula_parser *p)
{
	size_t pos = p->tok.start;
	const char *name = p->text + pos + 1;
	size_t namelen = p->tok.end - pos - 1, i;
	char buf[160];

	for (i = 0; i < sizeof(formula_funcs) / sizeof(*formula_funcs); i++)
		if (strlen(formula_funcs[i].name) == namelen &&
		    formula_fold_equal((const unsigned char *)name,
				       (const unsigned char *)
				       formula_funcs[i].name, namelen))
			return &formula_funcs[i];
	formula_escape(buf, sizeof(buf), p->text + pos, p->tok.end - pos);
	formula_fail(p, pos, "unknown function '%s'", buf);
	return NULL;
}

/* The arguments of f, after its name: "(a; b)", "()" or nothing.  The
 * first two go into args[]; the number found into *nargs.  0 or -1. */
static int formula_parse_args(struct formula_parser *p,
			      const struct formula_func *f, int args[2],
			      unsigned *nargs)
{
	char buf[160];
	int k;

	*nargs = 0;
	if (p->tok.type != FT_LPAREN) {
		if (f->nargs > 0) {
			formula_fail(p, p->tok.start, "expected '(' after @%s, "
				     "found %s", f->name,
				     formula_describe(p, buf, sizeof(buf)));
			return -1;
		}
		return 0;
	}
	if (!formula_enter(p, p->tok.start))
		return -1;
	formula_next(p);
	if (p->tok.type == FT_RPAREN) {
		formula_next(p);
		p->depth--;
		return 0;
	}
	for (;;) {
		k = formula_parse_unary(p);
		if (k < 0)
			return -1;
		if (*nargs < 2)
			args[*nargs] = k;
		(*nargs)++;
		if (p->tok.type == FT_SEMI) {
			formula_next(p);
			continue;
		}
		if (p->tok.type == FT_RPAREN) {
			formula_next(p);
			p->depth--;
			return 0;
		}
		if (p->failed)
			return -1;
		if (*nargs < f->nargs)
			formula_fail(p, p->tok.start, "expected ';' or ')' after "
				     "argument %u of @%s, found %s", *nargs,
				     f->name, formula_describe(p, buf,
							       sizeof(buf)));
		else
			formula_fail(p, p->tok.start, "expected ')' after "
				     "function arguments, found %s",
				     formula_describe(p, buf, sizeof(buf)));
		return -1;
	}
}

/* What f's arguments must be: an attribute name for @IsAvailable and
 * @IsUnavailable, an integer mask for @BitAnd, values otherwise. */
static int formula_check_args(struct formula_parser *p,
			      const struct formula_func *f,
			      const int args[2], unsigned nargs, size_t pos)
{
	char what[32];

	if (nargs != f->nargs) {
		formula_fail(p, pos, "@%s takes %u argument%s, found %u",
			     f->name, f->nargs, f->nargs == 1 ? "" : "s",
			     nargs);
		return -1;
	}
	snprintf(what, sizeof(what), "@%s", f->name);
	if (f->op == FOP_AVAILABLE || f->op == FOP_UNAVAILABLE) {
		if (p->nodes[args[0]].op != FOP_ATTR) {
			formula_fail(p, p->nodes[args[0]].pos, "@%s needs an "
				     "attribute name, e.g. @%s(mail)",
				     f->name, f->name);
			return -1;
		}
	} else if (nargs > 0 && !formula_need_value(p, args[0], what)) {
		return -1;
	}
	if (f->op == FOP_BITAND) {
		const struct formula_node *m = &p->nodes[args[1]];

		if (m->op != FOP_LIT || !m->lit_isint) {
			formula_fail(p, m->pos, "@BitAnd needs an integer as "
				     "its second argument, e.g. "
				     "@BitAnd(userAccountControl; 2)");
			return -1;
		}
	} else if (nargs == 2 && !formula_need_value(p, args[1], what)) {
		return -1;
	}
	return 0;
}

/* A function call at the current token: its node, or -1. */
static int formula_parse_call(struct formula_parser *p)
{
	const struct formula_func *f;
	size_t pos = p->tok.start;
	int args[2] = { -1, -1 };
	unsigned nargs;
	int k;

	if (!(f = formula_find_func(p)))
		return -1;
	formula_next(p);
	if (formula_parse_args(p, f, args, &nargs) < 0 || p->failed ||
	    formula_check_args(p, f, args, nargs, pos) < 0)
		return -1;
	k = formula_node_new(p, f->op, f->cond, pos);
	if (k < 0)
		return -1;
	if (f->op == FOP_BITAND) {
		/* The mask is kept in the node: one fewer lookup per value. */
		p->nodes[k].num = p->nodes[args[1]].num;
		p->nodes[k].kid = (uint16_t)args[0];
	} else if (nargs > 0) {
		p->nodes[k].kid = (uint16_t)args[0];
		if (nargs == 2)
			p->nodes[args[0]].next = (uint16_t)args[1];
	}
	return k;
}

/* A literal node from the current FT_STRING or FT_INT token. */
static int formula_parse_literal(struct formula_parser *p)
{
	int k = formula_node_new(p, FOP_LIT, false, p->tok.start);

	if (k < 0)
		return -1;
	p->nodes[k].off = p->tok.off;
	p->nodes[k].len = p->tok.len;
	p->nodes[k].lit_isint = (int8_t)formula_parse_int(
	    (const unsigned char *)p->pool + p->tok.off, p->tok.len,
	    &p->nodes[k].num);
	formula_next(p);
	return k;
}

/*
 * primary: '(' expression ')' | name | literal (':' literal)* | call.
 * Domino's list operator ':' is accepted between literals only.
 */
static int formula_parse_primary(struct formula_parser *p)
{
	char buf[160];
	size_t pos = p->tok.start;
	int k, first, idx;
	unsigned n;

	switch (p->tok.type) {
	case FT_LPAREN:
		if (!formula_enter(p, pos))
			return -1;
		formula_next(p);
		k = formula_parse_or(p);
		if (k < 0)
			return -1;
		if (p->tok.type != FT_RPAREN) {
			size_t line, col;

			formula_line_col(p->text, pos, &line, &col);
			formula_fail(p, p->tok.start, "expected ')' to match "
				     "'(' at line %zu, column %zu, found %s",
				     line, col, formula_describe(p, buf,
								 sizeof(buf)));
			return -1;
		}
		p->depth--;
		formula_next(p);
		break;
	case FT_NAME:
		idx = formula_attrs_add(p->attrs, p->text + pos,
					p->tok.end - pos);
		if (idx < 0) {
			formula_fail(p, pos, "too many attribute names: at "
				     "most %d in all formulas together",
				     FORMULA_MAX_ATTRS);
			return -1;
		}
		k = formula_node_new(p, FOP_ATTR, false, pos);
		if (k < 0)
			return -1;
		p->nodes[k].attr = (uint16_t)idx;
		formula_next(p);
		break;
	case FT_STRING:
	case FT_INT:
		first = formula_parse_literal(p);
		if (first < 0)
			return -1;
		for (n = 1; p->tok.type == FT_COLON; n++) {
			formula_next(p);
			if (p->tok.type != FT_STRING && p->tok.type != FT_INT) {
				if (p->failed)
					return -1;
				formula_fail(p, p->tok.start, "expected a "
					     "string or number after ':', "
					     "found %s", formula_describe(p,
					     buf, sizeof(buf)));
				return -1;
			}
			/* Items stay contiguous: nothing else is built here. */
			if (formula_parse_literal(p) < 0)
				return -1;
		}
		if (n == 1)
			return first;
		k = formula_node_new(p, FOP_LIST, false, pos);
		if (k < 0)
			return -1;
		p->nodes[k].kid = (uint16_t)first;
		p->nodes[k].nkids = (uint16_t)n;
		return k;
	case FT_FUNC:
		k = formula_parse_call(p);
		break;
	case FT_ERR:
		return -1;
	default:
		formula_fail(p, pos, "expected a value or condition, found %s",
			     formula_describe(p, buf, sizeof(buf)));
		return -1;
	}
	if (k >= 0 && p->tok.type == FT_COLON) {
		formula_fail(p, p->tok.start, "':' joins literal strings and "
			     "numbers only");
		return -1;
	}
	return k;
}

/* unary: '!' unary | primary.  '!' binds tightest and needs a condition. */
static int formula_parse_unary(struct formula_parser *p)
{
	size_t pos = p->tok.start;
	int k, n;

	if (p->tok.type != FT_NOT)
		return formula_parse_primary(p);
	if (!formula_enter(p, pos))
		return -1;
	formula_next(p);
	k = formula_parse_unary(p);
	if (k < 0)
		return -1;
	p->depth--;
	if (!p->nodes[k].cond) {
		formula_fail(p, pos, "'!' negates a condition, found a value; "
			     "write !(a = b) or a != b");
		return -1;
	}
	n = formula_node_new(p, FOP_NOT, true, pos);
	if (n >= 0)
		p->nodes[n].kid = (uint16_t)k;
	return n;
}

static bool formula_is_cmp(enum formula_tok t)
{
	return t >= FT_EQ && t <= FT_GE;
}

/* comparison: unary (op unary)?  Comparisons do not chain. */
static int formula_parse_cmp(struct formula_parser *p)
{
	static const char *const names[] = {
		[FT_EQ] = "'='", [FT_NE] = "'!='", [FT_LT] = "'<'",
		[FT_GT] = "'>'", [FT_LE] = "'<='", [FT_GE] = "'>='",
	};
	static const enum formula_op ops[] = {
		[FT_EQ] = FOP_EQ, [FT_NE] = FOP_NE, [FT_LT] = FOP_LT,
		[FT_GT] = FOP_GT, [FT_LE] = FOP_LE, [FT_GE] = FOP_GE,
	};
	enum formula_tok t;
	int left, right, k;

	left = formula_parse_unary(p);
	if (left < 0 || !formula_is_cmp(p->tok.type))
		return left;
	t = p->tok.type;
	if (!formula_need_value(p, left, names[t]))
		return -1;
	formula_next(p);
	right = formula_parse_unary(p);
	if (!formula_need_value(p, right, names[t]))
		return -1;
	if (formula_is_cmp(p->tok.type)) {
		formula_fail(p, p->tok.start, "comparisons cannot be chained; "
			     "join them with '&'");
		return -1;
	}
	k = formula_node_new(p, ops[t], true, p->nodes[left].pos);
	if (k < 0)
		return -1;
	p->nodes[k].kid = (uint16_t)left;
	p->nodes[left].next = (uint16_t)right;
	return k;
}

/* One n-ary node for "a op b op c": a flat tree keeps recursion shallow. */
static int formula_parse_chain(struct formula_parser *p, enum formula_tok t,
			       enum formula_op op,
			       int (*operand)(struct formula_parser *))
{
	int first, last, k;
	unsigned n = 1;

	first = operand(p);
	if (first < 0 || p->tok.type != t)
		return first;
	if (!formula_need_cond(p, first))
		return -1;
	last = first;
	while (p->tok.type == t) {
		formula_next(p);
		k = operand(p);
		if (!formula_need_cond(p, k))
			return -1;
		p->nodes[last].next = (uint16_t)k;
		last = k;
		n++;
	}
	k = formula_node_new(p, op, true, p->nodes[first].pos);
	if (k < 0)
		return -1;
	p->nodes[k].kid = (uint16_t)first;
	p->nodes[k].nkids = (uint16_t)n;
	return k;
}

static int formula_parse_and(struct formula_parser *p)
{
	return formula_parse_chain(p, FT_AND, FOP_AND, formula_parse_cmp);
}

/* expression: and ('|' and)*.  '&' binds tighter than '|'. */
static int formula_parse_or(struct formula_parser *p)
{
	return formula_parse_chain(p, FT_OR, FOP_OR, formula_parse_and);
}

/* Binary operators: after a leading word they make it a name, not SELECT. */
static bool formula_is_binary(enum formula_tok t)
{
	return formula_is_cmp(t) || t == FT_AND || t == FT_OR ||
	       t == FT_COLON;
}

/* Skip a leading SELECT keyword; an attribute called "select" stays one. */
static void formula_parse_select(struct formula_parser *p)
{
	struct formula_token saved_tok = p->tok;
	size_t saved_pos = p->pos, saved_pool = p->poollen;

	if (p->tok.type != FT_NAME || p->tok.end - p->tok.start != 6 ||
	    !formula_fold_equal((const unsigned char *)p->text + p->tok.start,
				(const unsigned char *)"select", 6))
		return;
	formula_next(p);
	if (!p->failed && formula_is_binary(p->tok.type)) {
		p->tok = saved_tok;
		p->pos = saved_pos;
		p->poollen = saved_pool;
		return;
	}
	if (p->tok.type == FT_EOF)
		formula_fail(p, p->tok.start, "expected a condition after "
			     "SELECT, found end of formula");
}

struct formula *formula_compile(const char *text, struct formula_attrs *attrs,
				char *err, size_t errlen)
{
	struct formula_parser p;
	struct formula *f = NULL;
	size_t saved_count = formula_attrs_count(attrs);
	char buf[160];
	int root = -1;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.errlen = err != NULL ? errlen : 0;
	if (p.errlen > 0)
		err[0] = '\0';
	p.text = text != NULL ? text : "";
	p.attrs = attrs;
	p.textlen = strnlen(p.text, FORMULA_MAX_TEXT + 1);
	if (attrs == NULL) {
		formula_fail(&p, 0, "no attribute table given");
		return NULL;
	}
	if (p.textlen > FORMULA_MAX_TEXT) {
		formula_fail(&p, FORMULA_MAX_TEXT, "formula longer than %d "
			     "bytes", FORMULA_MAX_TEXT);
		return NULL;
	}
	/* Literals decode to no more bytes than their text: never grows. */
	p.pool = malloc(p.textlen + 1);
	if (p.pool == NULL) {
		formula_fail(&p, 0, "out of memory");
		return NULL;
	}
	formula_next(&p);
	if (p.tok.type == FT_EOF)
		formula_fail(&p, p.tok.start, "empty formula (write @All to "
			     "select every entry)");
	formula_parse_select(&p);
	if (!p.failed)
		root = formula_parse_or(&p);
	if (root < 0 && !p.failed)
		formula_fail(&p, p.tok.start, "internal error: no result "
			     "without a reason");
	if (root >= 0 && !p.failed && p.tok.type != FT_EOF)
		formula_fail(&p, p.tok.start, "expected an operator or end of "
			     "formula, found %s",
			     formula_describe(&p, buf, sizeof(buf)));
	if (root >= 0 && !p.failed)
		formula_need_cond(&p, root);
	if (!p.failed) {
		size_t nodes = p.nnodes * sizeof(struct formula_node);

		f = malloc(sizeof(*f) + nodes + p.poollen + 1);
		if (f == NULL) {
			formula_fail(&p, 0, "out of memory");
		} else {
			memcpy(f->nodes, p.nodes, nodes);
			memcpy((char *)f->nodes + nodes, p.pool, p.poollen);
			f->pool = (const char *)f->nodes + nodes;
			f->root = (uint16_t)root;
		}
	}
	if (p.failed)
		formula_attrs_truncate(attrs, saved_count);
	free(p.nodes);
	free(p.pool);
	return f;
}

void formula_free(struct formula *f)
{
	free(f);
}

