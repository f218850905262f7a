// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xt_ratewin/NAME: a table's live state, and control writes.
 *
 * One directory per network namespace, one file per table. The file's
 * lifetime is tied to the table's under rw_net.mutex: it is created before
 * the table is listed and removed before it is unlisted-and-freed, or with
 * the directory when the namespace exits first (rules can outlive the
 * namespace's exit handler; their tables then live on without a file).
 * remove_proc_entry() waits for running reads and writes and closes open
 * files, so nothing here ever sees a freed table.
 *
 * Reading walks the table's slots under RCU, one seq_file batch (a page) at
 * a time, with the position kept across batches. Each entry's lock is taken just
 * long enough to copy its state; what the file shows (tokens refilled, old
 * window events dropped, ban expired) is computed on that copy, so a read
 * never changes an entry and never holds a lock across the table.
 *
 * Writes are parsed by ratewin_parse.h and carried out by the table's
 * control operations in xt_ratewin_main.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <net/net_namespace.h>

#include "ratewin.h"
#include "ratewin_parse.h"

/*
 * Who may read and write the files. The ids are taken in the user
 * namespace that owns the network namespace (0: its root, the default);
 * an id not mapped there falls back to that root. Changes apply to files
 * created afterwards.
 */
static unsigned int proc_perms __read_mostly = 0600;
static unsigned int proc_uid __read_mostly;
static unsigned int proc_gid __read_mostly;
module_param(proc_perms, uint, 0644);
module_param(proc_uid, uint, 0644);
module_param(proc_gid, uint, 0644);
MODULE_PARM_DESC(proc_perms, "permissions of /proc/net/xt_ratewin/* files (masked with 0666; 0 means 0400)");
MODULE_PARM_DESC(proc_uid, "owner of /proc/net/xt_ratewin/* files, in the namespace's user namespace");
MODULE_PARM_DESC(proc_gid, "group of /proc/net/xt_ratewin/* files, in the namespace's user namespace");

/* ---- reading ---------------------------------------------------------- */

enum {
	RW_SNAP_WIN	= 1 << 0,
	RW_SNAP_RATE	= 1 << 1,
	RW_SNAP_CONN	= 1 << 2,
	RW_SNAP_BAN	= 1 << 3,
};

/* What one entry line shows, copied out of the entry. */
struct rw_snap {
	u32	key[RW_KEY_MAX_WORDS];
	u8	family;
	u8	mode;
	u8	srcmask;	/* for the entry's family */
	u8	dstmask;
	u8	has;		/* RW_SNAP_* */
	u32	last_ms;
	u32	win_count;
	u32	win_n;
	u32	next_ms;
	u32	ban_ms;
	u32	conns;
	u64	tokens;		/* fixed point */
	u64	burst;
	u64	admitted;
	u64	over;
};

struct rw_iter {
	struct xt_ratewin_tbl	*t;
	u64			slot;	/* where the walk goes on */
	loff_t			pos;	/* item in snap: 0 header, n nth entry */
	bool			have;	/* snap holds item pos */
	bool			eof;	/* no entry at or after pos */
	struct rw_snap		snap;
};

/*
 * Copy an entry's state as of now into sn. Called under RCU. False when the
 * entry is being removed.
 */
static bool rw_snap_entry(struct xt_ratewin_tbl *t, struct rw_entry *e,
			  struct rw_snap *sn)
{
	union rw_win_buf winbuf;
	struct nf_conncount_list *l;
	const struct rw_cfg *c;
	struct rw_state st;
	void *win = NULL;
	struct rw_key k;
	u8 flags, v6;
	u32 now;

	rw_entry_lock_bh(e);
	if (e->flags & RW_E_DEAD) {
		rw_entry_unlock_bh(e);
		return false;
	}
	now = rw_now();
	c = rw_entry_cfg(t, e);
	st = rw_entry_state(e);
	flags = e->flags & ~RW_E_LOCKED;
	win = rw_entry_win_copy(e, c, &winbuf);
	rw_entry_key(e, &k);
	sn->admitted = e->admitted;
	sn->over = e->over;
	l = rw_entry_conns(e);
	rw_entry_unlock_bh(e);

	/* the rest works on the copies: the entry stays as it is */
	rw_key_relayout(&k, c->mode, true);	/* shown wide, as written */
	sn->family = k.family;
	memcpy(sn->key, k.w, sizeof(sn->key));
	v6 = sn->family == NFPROTO_IPV6;
	sn->mode = c->mode;
	sn->srcmask = c->srcmask[v6];
	sn->dstmask = c->dstmask[v6];
	sn->has = 0;
	sn->last_ms = jiffies_to_msecs(now - st.last);
	rw_refresh(&st, &flags, win, &c->lim, now);
	if (win) {
		sn->has |= RW_SNAP_WIN;
		sn->win_count = rw_win_count(win, &c->lim);
		sn->win_n = c->lim.win_n;
		sn->next_ms = jiffies_to_msecs(rw_win_next(win, &c->lim, now));
	}
	if (c->lim.flags & XT_RATEWIN_F_RATE) {
		sn->has |= RW_SNAP_RATE;
		sn->tokens = st.tokens;
		sn->burst = c->lim.burst_fp >> RW_FP_SHIFT;
	}
	if (c->lim.flags & XT_RATEWIN_F_CONN) {
		sn->has |= RW_SNAP_CONN;
		sn->conns = l ? READ_ONCE(l->count) : 0;
	}
	if (flags & RW_S_BANNED) {
		sn->has |= RW_SNAP_BAN;
		sn->ban_ms = jiffies_to_msecs(c->lim.ban_j -
					      (u32)(now - st.ban_start));
	}
	return true;
}

static void rw_iter_rewind(struct rw_iter *it)
{
	it->slot = 0;
	it->pos = 0;
	it->have = false;
	it->eof = false;
}

/*
 * Step to the next live entry. Under RCU. An entry that a rebuild moves
 * during the read can show twice or not at all, as in any table dump.
 */
static bool rw_iter_next(struct rw_iter *it)
{
	struct rw_entry *e;

	it->pos++;
	it->have = false;
	if (it->eof)
		return false;
	while ((e = rw_table_next(it->t, &it->slot))) {
		if (rw_snap_entry(it->t, e, &it->snap)) {
			it->have = true;
			return true;
		}
	}
	it->eof = true;
	return false;
}

/*
 * seq_file asks again for the item at *pos after each batch; the walker
 * stays where it was, so a whole read is one pass over the table.
 */
static void *rw_seq_start(struct seq_file *s, loff_t *pos)
	__acquires(RCU)
{
	struct rw_iter *it = s->private;

	if (*pos == 0 || *pos < it->pos)
		rw_iter_rewind(it);
	rcu_read_lock();
	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (*pos == it->pos)
		return it->have ? &it->snap : NULL;
	while (it->pos < *pos)
		if (!rw_iter_next(it))
			return NULL;
	return &it->snap;
}

static void *rw_seq_next(struct seq_file *s, void *v, loff_t *pos)
{
	struct rw_iter *it = s->private;

	++*pos;
	return rw_iter_next(it) ? &it->snap : NULL;
}

static void rw_seq_stop(struct seq_file *s, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

/* Milliseconds in the largest unit that is exact, as the plugin saves. */
static void rw_seq_duration(struct seq_file *s, u64 ms)
{
	static const struct {
		u32		ms;
		const char	*unit;
	} units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" },
	};
	unsigned int i;
	u32 rem;
	u64 q;

	for (i = 0; ms && i < ARRAY_SIZE(units); i++) {
		q = div_u64_rem(ms, units[i].ms, &rem);
		if (!rem) {
			seq_printf(s, "%llu%s", q, units[i].unit);
			return;
		}
	}
	seq_printf(s, "%llums", ms);
}

/* A byte count as the plugin writes it: mb or kb where exact. */
static void rw_seq_bytes(struct seq_file *s, u64 n)
{
	if (n && !(n & ((1 << 20) - 1)))
		seq_printf(s, "%llumb", n >> 20);
	else if (n && !(n & ((1 << 10) - 1)))
		seq_printf(s, "%llukb", n >> 10);
	else
		seq_printf(s, "%llu", n);
}

static void rw_seq_rate(struct seq_file *s, const struct xt_ratewin_mtinfo *i)
{
	if (i->flags & XT_RATEWIN_F_BYTES) {
		rw_seq_bytes(s, i->rate_n);
		if (!(i->rate_n & ((1 << 10) - 1)) && i->rate_n)
			seq_puts(s, "/");
		else
			seq_puts(s, "b/");
		if (i->rate_period_ms == 1000)
			seq_puts(s, "s");
		else
			seq_printf(s, "%ums", i->rate_period_ms);
		return;
	}
	seq_printf(s, "%llu/", i->rate_n);
	switch (i->rate_period_ms) {
	case 1000:
		seq_puts(s, "second");
		break;
	case 60000:
		seq_puts(s, "minute");
		break;
	case 3600000:
		seq_puts(s, "hour");
		break;
	case 86400000:
		seq_puts(s, "day");
		break;
	default:
		rw_seq_duration(s, i->rate_period_ms);
		break;
	}
}

static void rw_seq_mask(struct seq_file *s, const char *name, const u8 *m)
{
	if (m[0] < 32 || m[1] < 128)
		seq_printf(s, ", %s ipv4 %u ipv6 %u", name, m[0], m[1]);
}

/*
 * # table NAME: entries N/MAX, limits <the rule's words>
 * # full N, reclaimed N, mode LIST[, srcmask ipv4 N ipv6 N][, dstmask ...]
 * # memory N KB: N slots of N bytes, N used, unstored N
 * (used: slots of live entries and of reclaimed ones, until a rebuild;
 * unstored: new keys decided but not stored, while the table grew)
 */
static void rw_show_header(struct seq_file *s, struct xt_ratewin_tbl *t)
{
	const struct rw_cfg *c = rcu_dereference(t->cfg);
	const struct xt_ratewin_mtinfo *i = &c->info;
	const struct rw_array *a;
	static const char *const modes[] = {
		"srcip", "dstip", "srcport", "dstport",
	};
	unsigned int b;
	bool first = true;

	seq_printf(s, "# table %s: entries %d/%u, limits", t->name,
		   atomic_read(&t->count), c->max);
	if (i->flags & XT_RATEWIN_F_WINDOW) {
		seq_printf(s, " window %u/", i->window_n);
		rw_seq_duration(s, i->window_ms);
	}
	if (i->flags & XT_RATEWIN_F_RATE) {
		seq_puts(s, " rate ");
		rw_seq_rate(s, i);
		seq_puts(s, " burst ");
		if (i->flags & XT_RATEWIN_F_BYTES)
			rw_seq_bytes(s, i->burst);
		else
			seq_printf(s, "%llu", i->burst);
	}
	if (i->flags & XT_RATEWIN_F_CONN)
		seq_printf(s, " conn-above %u", i->conn_above);
	if (i->flags & XT_RATEWIN_F_BAN) {
		seq_puts(s, " ban ");
		rw_seq_duration(s, i->ban_ms);
	}
	if (i->flags & XT_RATEWIN_F_COUNT_ALL)
		seq_puts(s, " count-all");
	seq_printf(s, "\n# full %lld, reclaimed %lld, mode ",
		   (long long)atomic64_read(&t->full_events),
		   (long long)atomic64_read(&t->reclaimed));
	for (b = 0; b < ARRAY_SIZE(modes); b++) {
		if (!(c->mode & (1U << b)))
			continue;
		seq_printf(s, "%s%s", first ? "" : ",", modes[b]);
		first = false;
	}
	if (c->mode & XT_RATEWIN_MODE_SRCIP)
		rw_seq_mask(s, "srcmask", c->srcmask);
	if (c->mode & XT_RATEWIN_MODE_DSTIP)
		rw_seq_mask(s, "dstmask", c->dstmask);
	a = rcu_dereference(t->arr);
	seq_printf(s, "\n# memory %llu KB: %u slots of %u bytes, %d used, unstored %lld\n",
		   DIV_ROUND_UP_ULL((u64)a->size * a->stride, 1024), a->size,
		   a->stride, atomic_read(&a->used),
		   (long long)atomic64_read(&t->unstored));
}

static void rw_show_addr(struct seq_file *s, const char *name, const u32 *w,
			 u8 family, u8 plen)
{
	if (family == NFPROTO_IPV6) {
		seq_printf(s, "%s=%pI6c", name, w);
		if (plen < 128)
			seq_printf(s, "/%u", plen);
	} else {
		seq_printf(s, "%s=%pI4", name, w);
		if (plen < 32)
			seq_printf(s, "/%u", plen);
	}
}

/* Seconds with milliseconds; 0 is "0s". */
static void rw_show_ms(struct seq_file *s, const char *name, u32 ms)
{
	if (ms)
		seq_printf(s, " %s=%u.%03us", name, ms / 1000, ms % 1000);
	else
		seq_printf(s, " %s=0s", name);
}

static void rw_show_entry(struct seq_file *s, const struct rw_snap *sn)
{
	int soff = rw_key_src_off(sn->mode), doff = rw_key_dst_off(sn->mode);
	int poff = rw_key_port_off(sn->mode);
	const char *sep = "";

	if (soff >= 0) {
		rw_show_addr(s, "src", &sn->key[soff], sn->family, sn->srcmask);
		sep = " ";
	}
	if (doff >= 0) {
		seq_puts(s, sep);
		rw_show_addr(s, "dst", &sn->key[doff], sn->family, sn->dstmask);
		sep = " ";
	}
	if (poff >= 0) {
		if (sn->mode & XT_RATEWIN_MODE_SRCPORT) {
			seq_printf(s, "%ssport=%u", sep, sn->key[poff] >> 16);
			sep = " ";
		}
		if (sn->mode & XT_RATEWIN_MODE_DSTPORT) {
			seq_printf(s, "%sdport=%u", sep, sn->key[poff] & 0xffff);
			sep = " ";
		}
	}
	if (soff < 0 && doff < 0)
		seq_printf(s, "%sfamily=%s", sep,
			   sn->family == NFPROTO_IPV6 ? "ipv6" : "ipv4");
	rw_show_ms(s, "last", sn->last_ms);
	if (sn->has & RW_SNAP_WIN) {
		seq_printf(s, " window=%u/%u", sn->win_count, sn->win_n);
		rw_show_ms(s, "next", sn->next_ms);
	}
	if (sn->has & RW_SNAP_RATE)
		/* one decimal, rounded down: never shows more than there is */
		seq_printf(s, " tokens=%llu.%u/%llu", sn->tokens >> RW_FP_SHIFT,
			   (u32)(((sn->tokens & (RW_FP_ONE - 1)) * 10) >>
				 RW_FP_SHIFT),
			   sn->burst);
	if (sn->has & RW_SNAP_CONN)
		seq_printf(s, " conns=%u", sn->conns);
	if (sn->has & RW_SNAP_BAN)
		rw_show_ms(s, "ban", sn->ban_ms);
	seq_printf(s, " admitted=%llu over=%llu\n", sn->admitted, sn->over);
}

static int rw_seq_show(struct seq_file *s, void *v)
{
	struct rw_iter *it = s->private;

	if (v == SEQ_START_TOKEN)
		rw_show_header(s, it->t);
	else
		rw_show_entry(s, v);
	return 0;
}

static const struct seq_operations rw_seq_ops = {
	.start	= rw_seq_start,
	.next	= rw_seq_next,
	.stop	= rw_seq_stop,
	.show	= rw_seq_show,
};

static int rw_proc_open(struct inode *inode, struct file *file)
{
	struct rw_iter *it;

	it = __seq_open_private(file, &rw_seq_ops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->t = rw_pde_data(inode);
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

/*
 * One command per write (ratewin_parse.h): "/", "-KEY" or "+KEY". A
 * malformed command is -EINVAL and changes nothing; forgetting a key that
 * has no entry is -ENOENT; recording into a full table is -ENOSPC.
 */
static ssize_t rw_proc_write(struct file *file, const char __user *ubuf,
			     size_t size, loff_t *ppos)
{
	struct xt_ratewin_tbl *t = rw_pde_data(file_inode(file));
	struct rw_cmd_keyspec ks;
	const struct rw_cfg *c;
	char buf[RW_CMD_MAX];
	struct rw_key key;
	int op, err = 0, tries = 0;

	/* the opener's credentials, as for netlink: no confused deputy */
	if (!file_ns_capable(file, t->net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (!size || size > sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, size))
		return -EFAULT;

	rcu_read_lock();
	c = rcu_dereference(t->cfg);
	ks.mode = c->mode;
	memcpy(ks.srcmask, c->srcmask, sizeof(ks.srcmask));
	memcpy(ks.dstmask, c->dstmask, sizeof(ks.dstmask));
	rcu_read_unlock();

	op = rw_cmd_parse(buf, size, &ks, &key);
	switch (op) {
	case RW_CMD_FLUSH:
		rw_table_flush(t);
		break;
	case RW_CMD_FORGET:
		err = rw_table_forget(t, &key);
		break;
	case RW_CMD_RECORD:
		/* -EAGAIN: the entry went away under us; look it up again */
		do {
			err = rw_table_record(t, &key);
		} while (err == -EAGAIN && ++tries < 4);
		break;
	default:
		return -EINVAL;
	}
	return err ? err : size;
}

static const struct proc_ops rw_proc_fops = {
	.proc_open	= rw_proc_open,
	.proc_read	= seq_read,
	.proc_write	= rw_proc_write,
	.proc_lseek	= seq_lseek,
	.proc_release	= seq_release_private,
};

/* ---- files and directories -------------------------------------------- */

/* The namespace's root: the default owner. Global root if it has none. */
static void rw_proc_owner(struct net *net, unsigned int u, unsigned int g,
			  kuid_t *uid, kgid_t *gid)
{
	*uid = make_kuid(net->user_ns, u);
	if (!uid_valid(*uid))
		*uid = make_kuid(net->user_ns, 0);
	if (!uid_valid(*uid))
		*uid = GLOBAL_ROOT_UID;
	*gid = make_kgid(net->user_ns, g);
	if (!gid_valid(*gid))
		*gid = make_kgid(net->user_ns, 0);
	if (!gid_valid(*gid))
		*gid = GLOBAL_ROOT_GID;
}

int rw_proc_net_init(struct net *net, struct rw_net *rn)
{
	kuid_t uid;
	kgid_t gid;

	rn->proc_dir = proc_mkdir("xt_ratewin", net->proc_net);
	if (!rn->proc_dir)
		return -ENOMEM;
	rw_proc_owner(net, 0, 0, &uid, &gid);
	proc_set_user(rn->proc_dir, uid, gid);
	return 0;
}

/*
 * The namespace goes: every file, then the directory. Tables that outlive
 * this (their rules go later) have no file any more, and removing it when
 * they go is a no-op. rn->mutex held.
 */
void rw_proc_net_exit(struct net *net, struct rw_net *rn)
{
	struct xt_ratewin_tbl *t;

	list_for_each_entry(t, &rn->tables, list)
		rw_proc_table_del(t);
	if (rn->proc_dir) {
		proc_remove(rn->proc_dir);
		rn->proc_dir = NULL;
	}
}

/* Before the table is listed; rn->mutex held, so the name is free. */
int rw_proc_table_add(struct xt_ratewin_tbl *t)
{
	struct rw_net *rn = t->rn;
	struct proc_dir_entry *pde;
	umode_t mode = READ_ONCE(proc_perms) & 0666;
	kuid_t uid;
	kgid_t gid;

	lockdep_assert_held(&rn->mutex);
	if (!rn->proc_dir)
		return -ENOENT;		/* the namespace is going */
	if (!mode)
		mode = 0400;	/* proc would make it world-readable */
	rw_proc_owner(t->net, READ_ONCE(proc_uid), READ_ONCE(proc_gid),
		      &uid, &gid);
	pde = proc_create_data(t->name, mode, rn->proc_dir, &rw_proc_fops, t);
	if (!pde)
		return -ENOMEM;
	proc_set_user(pde, uid, gid);
	t->pde = pde;
	return 0;
}

/* When the table goes (or the namespace, whichever is first). */
void rw_proc_table_del(struct xt_ratewin_tbl *t)
{
	lockdep_assert_held(&t->rn->mutex);
	if (!t->pde)
		return;
	proc_remove(t->pde);
	t->pde = NULL;
}
