// SPDX-License-Identifier: GPL-2.0
/*
 * ratewin_mtfuzz: the kernel's own defence. Submits generated and mutated
 * struct xt_ratewin_mtinfo for the "ratewin" match to the kernel
 *
 *   legacy: IPT_SO_SET_REPLACE / IP6T_SO_SET_REPLACE of the filter table,
 *           a blob built here as iptables-legacy builds it: one rule with
 *           the match in the first hook, a policy per hook, the error
 *           entry;
 *   nft:    NFT_MSG_NEWRULE in an ip / ip6 table's input chain with a
 *           "match" expression (nft_compat) carrying the raw info, as
 *           iptables-nft does, up to 256 cases to a batch (each message
 *           is answered on its own; a refusal aborts the batch, and up
 *           to 16 of the accepted rules are then committed on their own);
 *
 * and checks that checkentry refuses exactly the invalid ones (EINVAL) and
 * takes the valid ones, validity decided by the ABI rules
 * (tests/fuzz/mtinfo_oracle.h). After a rule is taken, a few UDP datagrams
 * from several loopback sources go through it. Everything happens in a
 * network namespace of its own, so the two paths can run at once.
 *
 *   ratewin_mtfuzz [-n CASES] [-s SEED] [-p legacy|nft|both] [-v]
 *
 * CASES per path (default 10000). Prints a summary line per path and
 * every disagreement (the blob in hex); exit 0 when there was none, 1
 * when there was, 2 when it could not set up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "mtinfo_oracle.h"

#define INFO_SIZE	XT_ALIGN(sizeof(struct xt_ratewin_mtinfo))
#define USER_SIZE	offsetof(struct xt_ratewin_mtinfo, table)

static bool verbose;
static uint64_t rng;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

/* ---- generating cases ------------------------------------------------ */

/* A value in [lo, hi], often at or next to an end. */
static uint64_t edgy(uint64_t lo, uint64_t hi)
{
	switch (below(6)) {
	case 0:
		return lo;
	case 1:
		return hi;
	case 2:
		return lo < hi ? lo + 1 : lo;
	case 3:
		return lo < hi ? hi - 1 : hi;
	default:
		return lo + (hi - lo == UINT64_MAX ? rnd() :
			     below(hi - lo + 1));
	}
}

static unsigned int name_seq;

static void gen_name(char *name)
{
	static const char graph[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "_-.:!#$%&()*+,;<=>?@[]^`{|}~\"'\\";
	size_t len, i;

	memset(name, 0, XT_RATEWIN_NAME_LEN);
	if (chance(5)) {
		/* a few shared names: later rules reconfigure the table */
		snprintf(name, XT_RATEWIN_NAME_LEN, "shared%u",
			 (unsigned int)below(4));
		return;
	}
	if (chance(70)) {
		snprintf(name, XT_RATEWIN_NAME_LEN, "f%u", name_seq++);
		return;
	}
	len = 1 + below(XT_RATEWIN_NAME_LEN - 1);
	for (i = 0; i < len; i++)
		name[i] = chance(90) ? graph[below(sizeof(graph) - 1)] :
			  (char)(0xa1 + below(0x5f));
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		name[0] = 'x';
}

/* A valid matchinfo, fields often at the ends of their ranges. */
static void gen_valid(struct xt_ratewin_mtinfo *i, bool v6)
{
	unsigned int maxmask = v6 ? 128 : 32;

	memset(i, 0, sizeof(*i));
	gen_name(i->name);
	do {
		i->flags = (uint32_t)below(XT_RATEWIN_F_ALL + 1);
	} while (!(i->flags & XT_RATEWIN_F_LIMITS));
	if (!(i->flags & XT_RATEWIN_F_RATE))
		i->flags &= ~XT_RATEWIN_F_BYTES;
	if (!(i->flags & XT_RATEWIN_F_WINDOW))
		i->flags &= ~XT_RATEWIN_F_COUNT_ALL;
	i->mode = (uint8_t)below(XT_RATEWIN_MODE_ALL + 1);
	i->srcmask = (uint8_t)edgy(0, maxmask);
	i->dstmask = (uint8_t)edgy(0, maxmask);
	if (i->flags & XT_RATEWIN_F_RATE) {
		if (i->flags & XT_RATEWIN_F_BYTES) {
			i->rate_n = edgy(1, XT_RATEWIN_BYTES_RATE_MAX);
			i->rate_period_ms = 1000;
		} else {
			i->rate_n = edgy(1, XT_RATEWIN_RATE_MAX);
			i->rate_period_ms = (uint32_t)edgy(1000,
						XT_RATEWIN_PERIOD_MAX_MS);
		}
		i->burst = edgy(1, XT_RATEWIN_BURST_MAX);
	}
	if (i->flags & XT_RATEWIN_F_WINDOW) {
		i->window_n = (uint32_t)(chance(50) ? edgy(1, 40) :
					 edgy(1, XT_RATEWIN_WINDOW_N_MAX));
		i->window_ms = edgy(1, XT_RATEWIN_DURATION_MAX_MS);
	}
	if (i->flags & XT_RATEWIN_F_CONN)
		i->conn_above = (uint32_t)edgy(0, XT_RATEWIN_CONN_MAX);
	if (i->flags & XT_RATEWIN_F_BAN)
		i->ban_ms = edgy(1, XT_RATEWIN_DURATION_MAX_MS);
	if (chance(30))
		i->htable_size = (uint32_t)edgy(0, XT_RATEWIN_SIZE_MAX);
	if (chance(30))
		i->htable_max = (uint32_t)edgy(0, XT_RATEWIN_MAX_MAX);
	if (chance(30))
		i->htable_expire_ms = (uint32_t)edgy(0, XT_RATEWIN_EXPIRE_MAX_MS);
	if (chance(30))
		i->htable_gc_ms = chance(20) ? 0 : (uint32_t)edgy(
			XT_RATEWIN_GC_MIN_MS, XT_RATEWIN_GC_MAX_MS);
}

/* An interesting value for a field of bits width: ends, just past them. */
static uint64_t wild(unsigned int bits, uint64_t max)
{
	uint64_t top = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;

	switch (below(8)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return max < top ? max + 1 : max;
	case 3:
		return top;
	case 4:
		return max;
	case 5:
		return (max < top / 2) ? max * 2 : top - 1;
	default:
		return rnd() & top;
	}
}

static void mutate(struct xt_ratewin_mtinfo *i, bool v6)
{
	uint8_t *b = (uint8_t *)i;
	size_t k;

	switch (below(16)) {
	case 0:		/* a bit anywhere the kernel reads */
		b[below(USER_SIZE)] ^= (uint8_t)(1U << below(8));
		break;
	case 1:		/* a byte anywhere */
		b[below(USER_SIZE)] = (uint8_t)rnd();
		break;
	case 2:		/* the name */
		switch (below(7)) {
		case 0:
			memset(i->name, 'a', XT_RATEWIN_NAME_LEN);
			break;
		case 1:
			i->name[below(strnlen(i->name,
					      XT_RATEWIN_NAME_LEN - 1) + 1)] = '/';
			break;
		case 2:
			i->name[0] = (char)below(0x21);
			break;
		case 3:
			strcpy(i->name, chance(50) ? "." : "..");
			break;
		case 4:
			i->name[below(XT_RATEWIN_NAME_LEN - 1)] =
				(char)(0x7f + below(0x22));
			break;
		case 5:
			memset(i->name, 0, XT_RATEWIN_NAME_LEN);
			break;
		default:	/* bytes after the NUL: still valid */
			k = strnlen(i->name, XT_RATEWIN_NAME_LEN);
			if (k + 1 < XT_RATEWIN_NAME_LEN)
				i->name[k + 1 + below(XT_RATEWIN_NAME_LEN -
						      k - 1)] = (char)rnd();
			break;
		}
		break;
	case 3:
		i->flags = chance(50) ? (uint32_t)wild(32, XT_RATEWIN_F_ALL) :
			   i->flags ^ (1U << below(32));
		break;
	case 4:
		i->mode = chance(50) ? (uint8_t)wild(8, XT_RATEWIN_MODE_ALL) :
			  i->mode ^ (uint8_t)(1U << below(8));
		break;
	case 5:
		if (chance(50))
			i->srcmask = (uint8_t)wild(8, v6 ? 128 : 32);
		else
			i->dstmask = (uint8_t)wild(8, v6 ? 128 : 32);
		break;
	case 6:
		switch (below(3)) {
		case 0:
			i->pad0 = (uint8_t)(1 + below(255));
			break;
		case 1:
			i->pad1 = (uint32_t)(1 + below(UINT32_MAX));
			break;
		default:
			i->reserved[below(4)] |= 1ULL << below(64);
			break;
		}
		break;
	case 7:
		i->rate_n = wild(64, i->flags & XT_RATEWIN_F_BYTES ?
				 XT_RATEWIN_BYTES_RATE_MAX : XT_RATEWIN_RATE_MAX);
		break;
	case 8:
		i->rate_period_ms = chance(50) ? (uint32_t)below(1000) :
				    (uint32_t)wild(32, XT_RATEWIN_PERIOD_MAX_MS);
		break;
	case 9:
		i->burst = wild(64, XT_RATEWIN_BURST_MAX);
		break;
	case 10:
		if (chance(50))
			i->window_n = (uint32_t)wild(32, XT_RATEWIN_WINDOW_N_MAX);
		else
			i->window_ms = wild(64, XT_RATEWIN_DURATION_MAX_MS);
		break;
	case 11:
		i->conn_above = (uint32_t)wild(32, XT_RATEWIN_CONN_MAX);
		break;
	case 12:
		i->ban_ms = wild(64, XT_RATEWIN_DURATION_MAX_MS);
		break;
	case 13:
		switch (below(4)) {
		case 0:
			i->htable_size = (uint32_t)wild(32, XT_RATEWIN_SIZE_MAX);
			break;
		case 1:
			i->htable_max = (uint32_t)wild(32, XT_RATEWIN_MAX_MAX);
			break;
		case 2:
			i->htable_expire_ms = (uint32_t)wild(32,
						XT_RATEWIN_EXPIRE_MAX_MS);
			break;
		default:
			i->htable_gc_ms = chance(50) ? (uint32_t)below(10) :
					  (uint32_t)wild(32, XT_RATEWIN_GC_MAX_MS);
			break;
		}
		break;
	case 14:	/* the kernel's pointer: ignored, overwritten */
		memset(&i->table, 0xa5, sizeof(i->table));
		break;
	default:	/* random bytes over all of it */
		for (k = 0; k < USER_SIZE; k++)
			b[k] = (uint8_t)rnd();
		break;
	}
}

static void gen_case(struct xt_ratewin_mtinfo *i, bool v6)
{
	unsigned int m;

	gen_valid(i, v6);
	if (chance(45))
		return;
	for (m = 1 + (unsigned int)below(3); m; m--)
		mutate(i, v6);
}

/* ---- results ---------------------------------------------------------- */

struct tally {
	const char *path;
	unsigned long cases, valid, accepted, refused, wrong;
};

static void hexdump(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s%02x%s", i % 32 ? "" : "#     ", b[i],
		       i % 32 == 31 || i + 1 == n ? "\n" : "");
}

static void judge(struct tally *t, const struct xt_ratewin_mtinfo *i,
		  bool v6, int err)
{
	const char *why = rw_oracle_invalid(i, v6);
	bool valid = !why, ok;

	t->cases++;
	t->valid += valid;
	if (!err)
		t->accepted++;
	else
		t->refused++;
	ok = valid ? err == 0 : err == EINVAL;
	if (ok && !verbose)
		return;
	if (!ok)
		t->wrong++;
	if (!ok && t->wrong > 30)
		return;
	printf("# %s %s IPv%d case %lu: %s, kernel: %s%s\n",
	       ok ? "ok" : "WRONG", t->path, v6 ? 6 : 4, t->cases,
	       valid ? "valid" : why, err ? "refused, " : "accepted",
	       err ? strerror(err) : "");
	if (!ok)
		hexdump(i, USER_SIZE);
}

/* ---- traffic through an accepted rule ---------------------------------- */

/*
 * Sockets opened once (in the fuzzer's namespace): IPv4 ones bound to a
 * few loopback sources, so that several keys are seen, and an IPv6 one.
 */
#define SRC4_N	8
static int sock4[SRC4_N], sock6 = -1;
static bool socks_open;

static void open_socks(void)
{
	unsigned int k;

	socks_open = true;
	for (k = 0; k < SRC4_N; k++) {
		struct sockaddr_in s = { .sin_family = AF_INET };

		sock4[k] = socket(AF_INET, SOCK_DGRAM, 0);
		s.sin_addr.s_addr = htonl(0x7f000000 |
					  (uint32_t)(1 + below(200)));
		if (sock4[k] >= 0 && bind(sock4[k], (void *)&s, sizeof(s))) {
			close(sock4[k]);
			sock4[k] = -1;
		}
	}
	sock6 = socket(AF_INET6, SOCK_DGRAM, 0);
}

static void send_some(bool v6)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(9) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(0x7f000001) };
	unsigned int k;

	if (!socks_open)
		open_socks();
	a6.sin6_addr = in6addr_loopback;
	for (k = 0; k < 3; k++) {
		int fd = v6 ? sock6 : sock4[below(SRC4_N)];

		if (fd < 0)
			continue;
		if (v6)
			sendto(fd, "x", 1, MSG_DONTWAIT, (void *)&a6,
			       sizeof(a6));
		else
			sendto(fd, "x", 1, MSG_DONTWAIT, (void *)&a4,
			       sizeof(a4));
	}
}

/* ---- legacy: the filter table through setsockopt ----------------------- */

struct blob {
	uint8_t *p;
	size_t n, cap;
};

static void *put(struct blob *b, size_t n)
{
	void *r;

	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	r = b->p + b->n;
	memset(r, 0, n);
	b->n += n;
	return r;
}

/* An entry: the ipt_entry / ip6t_entry head, [match], a target. */
static size_t put_entry(struct blob *b, bool v6,
			const struct xt_ratewin_mtinfo *info, bool error)
{
	size_t head = v6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry);
	size_t msize = info ? XT_ALIGN(sizeof(struct xt_entry_match)) +
			      INFO_SIZE : 0;
	size_t tsize = error ? XT_ALIGN(sizeof(struct xt_error_target)) :
			       XT_ALIGN(sizeof(struct xt_standard_target));
	size_t off = b->n;
	uint8_t *e = put(b, head + msize + tsize);
	struct xt_entry_target *t = (void *)(e + head + msize);

	if (v6) {
		((struct ip6t_entry *)e)->target_offset = head + msize;
		((struct ip6t_entry *)e)->next_offset = head + msize + tsize;
	} else {
		((struct ipt_entry *)e)->target_offset = head + msize;
		((struct ipt_entry *)e)->next_offset = head + msize + tsize;
	}
	if (info) {
		struct xt_entry_match *m = (void *)(e + head);

		m->u.user.match_size = msize;
		strcpy(m->u.user.name, "ratewin");
		m->u.user.revision = 0;
		memcpy(m->data, info, INFO_SIZE);
	}
	t->u.user.target_size = tsize;
	if (error) {
		strcpy(t->u.user.name, XT_ERROR_TARGET);
		strcpy(((struct xt_error_target *)t)->errorname, "ERROR");
	} else {
		((struct xt_standard_target *)t)->verdict = -NF_ACCEPT - 1;
	}
	return off;
}

struct legacy {
	int fd[2];		/* IPv4, IPv6 raw sockets */
	/* the table as the last replace left it (asked once) */
	unsigned int valid_hooks[2], num_entries[2];
	bool known[2];
};

/* Replace filter with [rule,] a policy per hook and the error entry. */
static int legacy_replace(struct legacy *L, bool v6,
			  const struct xt_ratewin_mtinfo *info)
{
	int lvl = v6 ? SOL_IPV6 : SOL_IP;
	struct ipt_getinfo gi;	/* same layout as ip6t_getinfo */
	socklen_t gl = sizeof(gi);
	struct blob b = { 0 };
	size_t hdr = v6 ? sizeof(struct ip6t_replace) :
			  sizeof(struct ipt_replace);
	unsigned int hook_entry[NF_INET_NUMHOOKS] = { 0 };
	unsigned int underflow[NF_INET_NUMHOOKS] = { 0 };
	unsigned int h, n = 0;
	bool first = true;
	void *counters;
	int rc, err;

	if (!L->known[v6]) {
		memset(&gi, 0, sizeof(gi));
		strcpy(gi.name, "filter");
		if (getsockopt(L->fd[v6], lvl,
			       v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO,
			       &gi, &gl))
			return -errno;
		L->valid_hooks[v6] = gi.valid_hooks;
		L->num_entries[v6] = gi.num_entries;
		L->known[v6] = true;
	}
	gi.valid_hooks = L->valid_hooks[v6];
	gi.num_entries = L->num_entries[v6];

	put(&b, hdr);
	for (h = 0; h < NF_INET_NUMHOOKS; h++) {
		if (!(gi.valid_hooks & (1U << h)))
			continue;
		hook_entry[h] = (unsigned int)(b.n - hdr);
		if (first && info) {
			put_entry(&b, v6, info, false);
			n++;
		}
		first = false;
		underflow[h] = (unsigned int)(put_entry(&b, v6, NULL, false) -
					      hdr);
		n++;
	}
	put_entry(&b, v6, NULL, true);
	n++;

	counters = calloc(gi.num_entries ? gi.num_entries : 1,
			  sizeof(struct xt_counters));
	if (v6) {
		struct ip6t_replace *r = (void *)b.p;

		strcpy(r->name, "filter");
		r->valid_hooks = gi.valid_hooks;
		r->num_entries = n;
		r->size = (unsigned int)(b.n - hdr);
		memcpy(r->hook_entry, hook_entry, sizeof(hook_entry));
		memcpy(r->underflow, underflow, sizeof(underflow));
		r->num_counters = gi.num_entries;
		r->counters = counters;
	} else {
		struct ipt_replace *r = (void *)b.p;

		strcpy(r->name, "filter");
		r->valid_hooks = gi.valid_hooks;
		r->num_entries = n;
		r->size = (unsigned int)(b.n - hdr);
		memcpy(r->hook_entry, hook_entry, sizeof(hook_entry));
		memcpy(r->underflow, underflow, sizeof(underflow));
		r->num_counters = gi.num_entries;
		r->counters = counters;
	}
	rc = setsockopt(L->fd[v6], lvl,
			v6 ? IP6T_SO_SET_REPLACE : IPT_SO_SET_REPLACE, b.p,
			(socklen_t)b.n);
	err = rc ? errno : 0;
	if (!rc)
		L->num_entries[v6] = n;
	free(counters);
	free(b.p);
	return err;
}

static int run_legacy(unsigned long cases)
{
	struct tally t = { .path = "legacy" };
	struct legacy L = { .known = { false, false } };
	double t0 = now_s();
	struct xt_ratewin_mtinfo info;
	unsigned long k;
	int err;

	L.fd[0] = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	L.fd[1] = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
	if (L.fd[0] < 0 || L.fd[1] < 0) {
		perror("legacy: raw socket");
		return 2;
	}
	for (k = 0; k < 2; k++) {
		err = legacy_replace(&L, k, NULL);
		if (err) {
			printf("# legacy: cannot replace the IPv%d filter table "
			       "with an empty one: %s\n", k ? 6 : 4,
			       strerror(err < 0 ? -err : err));
			return 2;
		}
	}
	for (k = 0; k < cases; k++) {
		bool v6 = chance(40);

		gen_case(&info, v6);
		err = legacy_replace(&L, v6, &info);
		if (err < 0) {
			printf("# legacy: IPT_SO_GET_INFO failed: %s\n",
			       strerror(-err));
			return 2;
		}
		judge(&t, &info, v6, err);
		if (!err)
			send_some(v6);
	}
	legacy_replace(&L, false, NULL);
	legacy_replace(&L, true, NULL);
	close(L.fd[0]);
	close(L.fd[1]);
	printf("# legacy: %lu cases (%lu valid): %lu accepted, %lu refused, "
	       "%lu wrong, %.1f s\n", t.cases, t.valid, t.accepted, t.refused,
	       t.wrong, now_s() - t0);
	return t.wrong ? 1 : 0;
}

/* ---- nft: nf_tables with nft_compat ------------------------------------ */

static struct mnl_socket *nl;
static uint32_t portid, seq;

/* Send one batch message; 0 or the errno the kernel answered with. */
static int nft_batch(uint16_t type, uint16_t family, uint16_t flags,
		     void (*payload)(struct nlmsghdr *, void *), void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_nlmsg_batch *batch;
	struct nlmsghdr *nlh;
	uint32_t myseq;
	int ret;

	batch = mnl_nlmsg_batch_start(buf, sizeof(buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	myseq = seq++;
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(batch), type,
				    family, flags | NLM_F_ACK, myseq);
	payload(nlh, arg);
	mnl_nlmsg_batch_next(batch);
	nftnl_batch_end(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(batch),
			      mnl_nlmsg_batch_size(batch)) < 0) {
		mnl_nlmsg_batch_stop(batch);
		return errno;
	}
	mnl_nlmsg_batch_stop(batch);
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0)
			return errno;
		ret = mnl_cb_run(buf, ret, myseq, portid, NULL, NULL);
		if (ret < 0)
			return errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static void pl_table(struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_table *t = nftnl_table_alloc();

	(void)arg;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, "xtrwfuzz");
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
}

static void pl_chain(struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	(void)arg;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "xtrwfuzz");
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "in");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
}

static void pl_rule(struct nlmsghdr *nlh, void *arg)
{
	const struct xt_ratewin_mtinfo *info = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	void *data;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "xtrwfuzz");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "in");
	if (info) {
		struct nftnl_expr *e = nftnl_expr_alloc("match");

		data = calloc(1, INFO_SIZE);	/* the expression owns it */
		memcpy(data, info, INFO_SIZE);
		nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, "ratewin");
		nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 0);
		nftnl_expr_set(e, NFTNL_EXPR_MT_INFO, data, INFO_SIZE);
		nftnl_rule_add_expr(r, e);
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
}

/*
 * Many rules in one batch, each with its own sequence number and an ack:
 * nfnetlink runs every message of a batch even after one has failed and
 * answers each (then aborts the whole batch), so one batch gives each
 * case its own checkentry verdict.
 */
#define NFT_BATCH_MAX	256
#define NFT_RECOMMIT_MAX	16
static char nft_buf[1 << 18];

/*
 * End the batch whose n messages carry the sequence numbers base..base+n-1,
 * send it and wait for the ack of each: err[k] gets 0 or the errno of
 * message k. Returns 0, or the errno of the exchange itself.
 */
static int nft_batch_acks(struct mnl_nlmsg_batch *batch, uint32_t base,
			  unsigned int n, int *err)
{
	unsigned int k, got = 0;
	int ret;

	for (k = 0; k < n; k++)
		err[k] = -1;
	nftnl_batch_end(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	ret = mnl_socket_sendto(nl, mnl_nlmsg_batch_head(batch),
				mnl_nlmsg_batch_size(batch));
	mnl_nlmsg_batch_stop(batch);
	if (ret < 0)
		return errno;
	while (got < n) {
		struct nlmsghdr *nlh;
		int len;

		len = (int)mnl_socket_recvfrom(nl, nft_buf, sizeof(nft_buf));
		if (len < 0)
			return errno;
		for (nlh = (void *)nft_buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_seq < base || nlh->nlmsg_seq >= base + n)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			k = nlh->nlmsg_seq - base;
			if (err[k] == -1)
				got++;
			err[k] = -e->error;
		}
	}
	return 0;
}

/* The n cases as rules, one batch: err[k] gets 0 or the errno of case k. */
static int nft_rules_batch(const struct xt_ratewin_mtinfo *info,
			   const bool *v6, unsigned int n, int *err)
{
	struct mnl_nlmsg_batch *batch;
	uint32_t base;
	unsigned int k;

	batch = mnl_nlmsg_batch_start(nft_buf, sizeof(nft_buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	base = seq;
	for (k = 0; k < n; k++) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(
			mnl_nlmsg_batch_current(batch), NFT_MSG_NEWRULE,
			v6[k] ? NFPROTO_IPV6 : NFPROTO_IPV4,
			NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++);

		pl_rule(nlh, (void *)&info[k]);
		mnl_nlmsg_batch_next(batch);
	}
	return nft_batch_acks(batch, base, n, err);
}

/*
 * Every rule of both chains goes (a rule message without a handle), in
 * one batch.
 */
static int nft_flush_chains(void)
{
	struct mnl_nlmsg_batch *batch;
	uint32_t base;
	unsigned int f;
	int ret, err[2];

	batch = mnl_nlmsg_batch_start(nft_buf, sizeof(nft_buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	base = seq;
	for (f = 0; f < 2; f++) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(
			mnl_nlmsg_batch_current(batch), NFT_MSG_DELRULE,
			f ? NFPROTO_IPV6 : NFPROTO_IPV4, NLM_F_ACK, seq++);

		pl_rule(nlh, NULL);
		mnl_nlmsg_batch_next(batch);
	}
	ret = nft_batch_acks(batch, base, 2, err);
	if (ret)
		return ret;
	return err[1] ? err[1] : err[0];
}

static int run_nft(unsigned long cases)
{
	struct tally t = { .path = "nft" };
	static struct xt_ratewin_mtinfo info[NFT_BATCH_MAX];
	struct xt_ratewin_mtinfo keep[NFT_RECOMMIT_MAX];
	bool v6[NFT_BATCH_MAX], kv6[NFT_RECOMMIT_MAX];
	int err[NFT_BATCH_MAX], kerr[NFT_RECOMMIT_MAX];
	unsigned long k = 0, batches = 0, seen;
	double t0 = now_s();
	unsigned int n, j, nk, refused;
	int e, f, one = 1;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nft: netlink socket");
		return 2;
	}
	/* errors without the request echoed: a batch's answers fit */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	portid = mnl_socket_get_portid(nl);
	seq = (uint32_t)time(NULL);
	for (f = 0; f < 2; f++) {
		uint16_t fam = f ? NFPROTO_IPV6 : NFPROTO_IPV4;

		e = nft_batch(NFT_MSG_NEWTABLE, fam, NLM_F_CREATE, pl_table,
			      NULL);
		if (!e)
			e = nft_batch(NFT_MSG_NEWCHAIN, fam, NLM_F_CREATE,
				      pl_chain, NULL);
		if (e) {
			printf("# nft: cannot create the IPv%d table and chain:"
			       " %s\n", f ? 6 : 4, strerror(e));
			return 2;
		}
	}
	while (k < cases) {
		/* batches of 1 to NFT_BATCH_MAX cases (128 on average) */
		n = (unsigned int)(1 + below(NFT_BATCH_MAX));
		if (n > cases - k)
			n = (unsigned int)(cases - k);
		for (j = 0; j < n; j++) {
			v6[j] = chance(40);
			gen_case(&info[j], v6[j]);
		}
		seen = 0;
		e = nft_rules_batch(info, v6, n, err);
		if (e) {
			printf("# nft: batch of %u rules: %s\n", n, strerror(e));
			return 2;
		}
		batches++;
		for (j = 0, nk = 0, refused = 0; j < n; j++) {
			refused += !!err[j];
			judge(&t, &info[j], v6[j], err[j]);
			/* a sample of the accepted ones: reservoir */
			if (err[j])
				continue;
			seen++;
			if (nk < NFT_RECOMMIT_MAX) {
				keep[nk] = info[j];
				kv6[nk++] = v6[j];
			} else if (below(seen) < NFT_RECOMMIT_MAX) {
				unsigned int r = (unsigned int)below(nk);

				keep[r] = info[j];
				kv6[r] = v6[j];
			}
		}
		k += n;
		/*
		 * One refusal aborts the batch: up to NFT_RECOMMIT_MAX of the
		 * accepted rules, on their own, must now be committed
		 * together; traffic goes through them, then they go.
		 */
		if (nk && refused) {
			e = nft_rules_batch(keep, kv6, nk, kerr);
			if (e) {
				printf("# nft: batch of %u rules: %s\n", nk,
				       strerror(e));
				return 2;
			}
			for (j = 0; j < nk; j++) {
				if (!kerr[j])
					continue;
				t.wrong++;
				printf("# WRONG nft IPv%d: accepted in a batch, "
				       "refused with the other accepted ones: "
				       "%s\n", kv6[j] ? 6 : 4,
				       strerror(kerr[j]));
				hexdump(&keep[j], USER_SIZE);
			}
		}
		if (nk) {
			send_some(false);
			send_some(true);
			e = nft_flush_chains();
			if (e) {
				printf("# nft: cannot flush the chains: %s\n",
				       strerror(e));
				return 2;
			}
		}
	}
	for (f = 0; f < 2; f++)
		nft_batch(NFT_MSG_DELTABLE, f ? NFPROTO_IPV6 : NFPROTO_IPV4, 0,
			  pl_table, NULL);
	mnl_socket_close(nl);
	printf("# nft: %lu cases (%lu valid) in %lu batches: %lu accepted, "
	       "%lu refused, %lu wrong, %.1f s\n", t.cases, t.valid, batches,
	       t.accepted, t.refused, t.wrong, now_s() - t0);
	return t.wrong ? 1 : 0;
}

/* ---- main ------------------------------------------------------------- */

static int own_netns(void)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long cases = 10000;
	const char *path = "both";
	int opt, rc = 0, r;

	rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "n:s:p:v")) != -1) {
		switch (opt) {
		case 'n':
			cases = strtoul(optarg, NULL, 0);
			break;
		case 's':
			rng = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			path = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-n CASES] [-s SEED] "
				"[-p legacy|nft|both] [-v]\n", argv[0]);
			return 2;
		}
	}
	if (!rng)
		rng = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# ratewin_mtfuzz: %lu cases per path, path %s, seed %#llx\n",
	       cases, path, (unsigned long long)rng);
	if (own_netns())
		return 2;
	if (strcmp(path, "nft")) {
		r = run_legacy(cases);
		rc = r > rc ? r : rc;
	}
	if (strcmp(path, "legacy")) {
		r = run_nft(cases);
		rc = r > rc ? r : rc;
	}
	return rc;
}
