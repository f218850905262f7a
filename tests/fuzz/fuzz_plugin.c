// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the iptables plugin (userspace/libxt_ratewin.c, compiled in
 * here whole) through libxtables' own x6 option machinery, the way
 * iptables and iptables-restore drive it.
 *
 * Input: a command line, "-6" first for ip6tables, e.g.
 *     --ratewin-name ssh --ratewin-window 5/60s
 * split like iptables-restore splits a rule ("..." quotes, \ escapes;
 * "--opt=value" as getopt takes it, "!" inverts the next option).
 *
 * For each option the plugin's x6_parse runs with xtables_option_parse()
 * checks (repeats, "!", missing argument), then x6_fcheck and
 * xtables_options_fcheck(), as xtables_option_mpcall() and mfcall() do.
 * A refusal is libxtables' exit_err, caught here with longjmp.
 *
 * Invariants for an accepted rule, any broken one aborts:
 *   - the matchinfo is valid by the ABI (tests/fuzz/mtinfo_oracle.h, the
 *     rules the kernel's checkentry enforces) and rw_limits_init() takes
 *     it at HZ 100, 250, 300 and 1000;
 *   - its save form (iptables-save) parses again, to the same matchinfo,
 *     and saves to the same bytes;
 *   - printing it (iptables -L) works.
 * And no crash, leak (LeakSanitizer) or undefined behaviour on any input.
 */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The plugin's constructor registers through this, into fz_matches. */
#define xtables_register_matches fz_register_matches
#include "../../userspace/libxt_ratewin.c"
#undef xtables_register_matches

#include "ratewin_algo.h"
#include "fuzz_common.h"
#include "mtinfo_oracle.h"

#define FZ_MAXTOK	64

static struct xtables_match *fz_matches;
static unsigned int fz_nmatches;

void fz_register_matches(struct xtables_match *m, unsigned int n)
{
	fz_matches = m;
	fz_nmatches = n;
}

static jmp_buf fz_jmp;
static char fz_err[512];

__attribute__((noreturn, format(printf, 2, 3)))
static void fz_exit_err(enum xtables_exittype status, const char *msg, ...)
{
	va_list ap;

	(void)status;
	va_start(ap, msg);
	vsnprintf(fz_err, sizeof(fz_err), msg, ap);
	va_end(ap);
	longjmp(fz_jmp, 1);
}

static struct xtables_globals fz_globals = {
	.program_name = "iptables-fuzz",
	.program_version = "fuzz",
	.exit_err = fz_exit_err,
};

#define FUZZ_HAVE_INIT 1
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (xtables_init_all(&fz_globals, NFPROTO_IPV4) < 0) {
		fprintf(stderr, "xtables_init_all failed\n");
		exit(1);
	}
	if (!fz_matches || fz_nmatches != 2) {
		fprintf(stderr, "the plugin did not register two matches\n");
		exit(1);
	}
	return 0;
}

/*
 * Split like iptables-restore: whitespace separates, "..." groups, a
 * backslash escapes the next character inside quotes. Returns the number
 * of tokens, -1 when there are too many or a quote is open.
 */
static int split(const char *s, size_t len, char **tok, char *store)
{
	size_t i = 0, o = 0;
	int n = 0;

	while (i < len) {
		bool quoted = false, any = false;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
			i++;
		if (i == len)
			break;
		if (n == FZ_MAXTOK)
			return -1;
		tok[n] = store + o;
		while (i < len) {
			char c = s[i];

			if (!quoted && (c == ' ' || c == '\t' || c == '\n'))
				break;
			i++;
			if (c == '"') {
				quoted = !quoted;
				any = true;
				continue;
			}
			if (quoted && c == '\\' && i < len)
				c = s[i++];
			store[o++] = c;
			any = true;
		}
		if (quoted)
			return -1;
		store[o++] = '\0';
		if (any)
			n++;
	}
	return n;
}

struct fz_rule {
	struct xt_entry_match *m;
	void *udata;
};

static struct fz_rule fz_live[2];

static void rule_free(struct fz_rule *r)
{
	free(r->m);
	free(r->udata);
	r->m = NULL;
	r->udata = NULL;
}

/* Parse tokens into r. 0, or -1 with the message in fz_err. */
static int parse_rule(struct xtables_match *mt, char **tok, int n,
		      struct fz_rule *r)
{
	size_t size = XT_ALIGN(sizeof(struct xt_entry_match)) + mt->size;
	volatile int i = 0;
	volatile unsigned int xflags = 0;

	r->m = calloc(1, size);
	r->udata = calloc(1, mt->udata_size ? mt->udata_size : 1);
	if (!r->m || !r->udata)
		abort();
	r->m->u.match_size = size;
	strcpy(r->m->u.user.name, mt->name);
	if (mt->init)
		mt->init(r->m);
	fz_err[0] = '\0';
	if (setjmp(fz_jmp))
		return -1;

	while (i < n) {
		const struct xt_option_entry *e;
		struct xt_option_call cb;
		bool invert = false;
		const char *name, *arg = NULL, *eq;
		size_t nlen;

		if (!strcmp(tok[i], "!")) {
			invert = true;
			if (++i == n)
				fz_exit_err(PARAMETER_PROBLEM, "lone !");
		}
		if (strncmp(tok[i], "--", 2))
			fz_exit_err(PARAMETER_PROBLEM, "not an option: %s",
				    tok[i]);
		name = tok[i] + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		for (e = mt->x6_options; e->name; e++)
			if (strlen(e->name) == nlen &&
			    !strncmp(e->name, name, nlen))
				break;
		if (!e->name)
			fz_exit_err(PARAMETER_PROBLEM, "unknown option %s",
				    tok[i]);
		i++;
		if (eq) {
			if (e->type == XTTYPE_NONE)
				fz_exit_err(PARAMETER_PROBLEM,
					    "no argument allowed");
			arg = eq + 1;
		} else if (e->type != XTTYPE_NONE) {
			if (i == n)
				fz_exit_err(PARAMETER_PROBLEM,
					    "option requires an argument");
			arg = tok[i++];
		}
		memset(&cb, 0, sizeof(cb));
		cb.entry = e;
		cb.arg = arg;
		cb.invert = invert;
		cb.ext_name = mt->name;
		cb.data = r->m->data;
		cb.xflags = xflags;
		cb.match = &r->m;
		cb.udata = r->udata;
		/* xtables_option_parse() reads the argument from optarg */
		optarg = (char *)arg;
		mt->x6_parse(&cb);
		xflags = cb.xflags;
	}
	{
		struct xt_fcheck_call fc = {
			.ext_name = mt->name,
			.data = r->m->data,
			.udata = r->udata,
			.xflags = xflags,
		};

		mt->x6_fcheck(&fc);
	}
	xtables_options_fcheck(mt->name, xflags, mt->x6_options);
	return 0;
}

/* Run a print or save function of the plugin, its stdout into a string. */
static char *capture(struct xtables_match *mt, const struct xt_entry_match *m,
		     bool save)
{
	FILE *old = stdout, *ms;
	char *buf = NULL;
	size_t len = 0;

	ms = open_memstream(&buf, &len);
	if (!ms)
		abort();
	stdout = ms;
	if (save)
		mt->save(NULL, m);
	else
		mt->print(NULL, m, 0);
	fflush(ms);
	stdout = old;
	fclose(ms);
	return buf;
}

static void check_valid(const struct xt_ratewin_mtinfo *info, bool v6,
			const char *line)
{
	static const uint32_t hzs[] = { 100, 250, 300, 1000 };
	const char *why = rw_oracle_invalid(info, v6);
	struct rw_limits lim;
	unsigned int i;

	FZ_CHECK(!why, "the plugin accepted \"%s\" into a matchinfo the "
		 "kernel must refuse: %s", line, why);
	for (i = 0; i < 4; i++)
		FZ_CHECK(!rw_limits_init(&lim, info->flags, info->rate_n,
					 info->rate_period_ms, info->burst,
					 info->window_n, info->window_ms,
					 info->conn_above, info->ban_ms,
					 hzs[i]),
			 "\"%s\": rw_limits_init refuses it at HZ=%u", line,
			 hzs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char store[2][8192];
	char *tok[FZ_MAXTOK], *tok2[FZ_MAXTOK], line[4200];
	char *save1 = NULL, *save2 = NULL, *print1 = NULL;
	struct xtables_match *mt;
	struct xt_ratewin_mtinfo *i1, *i2;
	bool v6 = false;
	int n, n2, first = 0;

	if (size > 4096 || memchr(data, '\0', size))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	n = split(line, size, tok, store[0]);
	if (n < 0)
		return 0;
	if (n && (!strcmp(tok[0], "-6") || !strcmp(tok[0], "-4"))) {
		v6 = tok[0][1] == '6';
		first = 1;
	}
	mt = &fz_matches[v6];
	xtables_set_nfproto(v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);

	if (parse_rule(mt, tok + first, n - first, &fz_live[0])) {
		if (getenv("FUZZ_TRACE"))
			fprintf(stderr, "refused: %s\n  %s\n", line, fz_err);
		rule_free(&fz_live[0]);
		return 0;
	}
	i1 = (void *)fz_live[0].m->data;
	check_valid(i1, v6, line);

	print1 = capture(mt, fz_live[0].m, false);
	FZ_CHECK(print1 && strstr(print1, "ratewin:"), "print of \"%s\" "
		 "is \"%s\"", line, print1 ? print1 : "(null)");
	save1 = capture(mt, fz_live[0].m, true);
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "accepted: %s\n  save:%s\n  print:%s\n", line,
			save1, print1);

	n2 = split(save1, strlen(save1), tok2, store[1]);
	FZ_CHECK(n2 >= 0, "the save form \"%s\" of \"%s\" does not split",
		 save1, line);
	FZ_CHECK(!parse_rule(mt, tok2, n2, &fz_live[1]), "the save form "
		 "\"%s\" of \"%s\" is refused: %s", save1, line, fz_err);
	i2 = (void *)fz_live[1].m->data;
	FZ_CHECK(!memcmp(i1, i2, mt->userspacesize), "\"%s\" and its save "
		 "form \"%s\" give different matchinfo", line, save1);
	save2 = capture(mt, fz_live[1].m, true);
	FZ_CHECK(!strcmp(save1, save2), "save is not stable: \"%s\" then "
		 "\"%s\"", save1, save2);

	free(print1);
	free(save1);
	free(save2);
	rule_free(&fz_live[0]);
	rule_free(&fz_live[1]);
	return 0;
}
