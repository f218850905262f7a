// SPDX-License-Identifier: GPL-2.0
/*
 * A main() for the fuzz targets without libFuzzer, so that `make check`
 * (through tests/unit/fuzz_*_test.c, built with gcc, ASan and UBSan) can
 * replay the corpus and do a short mutation run:
 *
 *   1. every file of the corpus directory is run once;
 *   2. for FUZZ_CHECK_SECONDS (default 10; 0 skips), inputs made from the
 *      corpus by random mutations (bit flips, interesting bytes, inserts,
 *      erases, splices, dictionary tokens) are run.
 *
 * Environment: FUZZ_CORPUS (directory; default: the target's corpus in
 * the checkout), FUZZ_DICT, FUZZ_CHECK_SECONDS, FUZZ_SEED (reproduce a
 * mutation run). Output is TAP. An input that breaks an invariant or trips
 * a sanitizer is saved to $TMPDIR/fuzz-<target>-crash-<pid> and its path
 * printed; replay it with the libFuzzer binary or this one (FUZZ_CORPUS
 * pointing at a directory holding it, FUZZ_CHECK_SECONDS=0).
 *
 * The including file defines FUZZ_TARGET (its name) and FUZZ_CORPUS_DIR;
 * it may define FUZZ_DICT_FILE. A target with an LLVMFuzzerInitialize()
 * defines FUZZ_HAVE_INIT.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#ifdef FUZZ_HAVE_INIT
int LLVMFuzzerInitialize(int *argc, char ***argv);
#endif
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

#define SA_MAXLEN	4096
#define SA_MAXCORPUS	4096
#define SA_MAXDICT	512

struct sa_blob {
	uint8_t *p;
	size_t n;
};

static struct sa_blob sa_corpus[SA_MAXCORPUS];
static unsigned int sa_ncorpus;
static struct sa_blob sa_dict[SA_MAXDICT];
static unsigned int sa_ndict;
static const uint8_t *sa_cur;
static size_t sa_curlen;
static uint64_t sa_rng;

static uint64_t sa_rand(void)
{
	sa_rng ^= sa_rng << 13;
	sa_rng ^= sa_rng >> 7;
	sa_rng ^= sa_rng << 17;
	return sa_rng;
}

static size_t sa_below(size_t n)
{
	return n ? (size_t)(sa_rand() % n) : 0;
}

/* Save the input being run when it kills us. */
static void sa_dump(void)
{
	static int done;
	char path[256];
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (done || !sa_cur)
		return;
	done = 1;
	snprintf(path, sizeof(path), "%s/fuzz-%s-crash-%d",
		 tmp && *tmp ? tmp : "/tmp", FUZZ_TARGET, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, sa_cur, sa_curlen) != (ssize_t)sa_curlen)
			path[0] = '\0';
		close(fd);
	}
	fprintf(stderr, "# the failing input (%zu bytes) is in %s\n",
		sa_curlen, path);
	printf("not ok - %s: input %s broke an invariant or tripped a "
	       "sanitizer\n", FUZZ_TARGET, path);
	fflush(stdout);
}

static void sa_signal(int sig)
{
	sa_dump();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void sa_run(const uint8_t *p, size_t n)
{
	sa_cur = p;
	sa_curlen = n;
	LLVMFuzzerTestOneInput(p, n);
	sa_cur = NULL;
}

static int sa_read(const char *path, struct sa_blob *b)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return -1;
	buf = malloc(SA_MAXLEN);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, SA_MAXLEN, f);
	fclose(f);
	b->p = buf;
	b->n = n;
	return 0;
}

static int sa_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned int sa_load_corpus(const char *dir)
{
	char *names[SA_MAXCORPUS], path[4096];
	struct dirent *de;
	unsigned int n = 0, i;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < SA_MAXCORPUS) {
		if (de->d_name[0] == '.')
			continue;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), sa_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!stat(path, &st) && S_ISREG(st.st_mode) &&
		    !sa_read(path, &sa_corpus[sa_ncorpus]))
			sa_ncorpus++;
		free(names[i]);
	}
	return sa_ncorpus;
}

/* libFuzzer dictionary lines: [name=]"value" with \\, \" and \xNN. */
static void sa_load_dict(const char *path)
{
	char line[1024];
	FILE *f = path ? fopen(path, "r") : NULL;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && sa_ndict < SA_MAXDICT) {
		char *q = strchr(line, '"'), *e;
		uint8_t out[256];
		size_t n = 0;

		if (line[0] == '#' || !q)
			continue;
		e = strrchr(line, '"');
		if (e == q)
			continue;
		for (q++; q < e && n < sizeof(out); q++) {
			if (*q == '\\' && q + 1 < e) {
				q++;
				if (*q == 'x' && q + 2 < e) {
					char hex[3] = { q[1], q[2], 0 };

					out[n++] = (uint8_t)strtoul(hex, NULL,
								    16);
					q += 2;
					continue;
				}
			}
			out[n++] = (uint8_t)*q;
		}
		sa_dict[sa_ndict].p = malloc(n ? n : 1);
		memcpy(sa_dict[sa_ndict].p, out, n);
		sa_dict[sa_ndict++].n = n;
	}
	fclose(f);
}

static size_t sa_mutate(uint8_t *b, size_t n)
{
	static const uint8_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff, ' ',
					       '0', '9', '/', ':', '.', '\n' };
	unsigned int k, rounds = 1 + (unsigned int)sa_below(6);

	for (k = 0; k < rounds; k++) {
		size_t pos = sa_below(n + 1), len, i;
		const struct sa_blob *o;

		switch (sa_below(9)) {
		case 0:
			if (n)
				b[sa_below(n)] ^= (uint8_t)(1U << sa_below(8));
			break;
		case 1:
			if (n)
				b[sa_below(n)] = (uint8_t)sa_rand();
			break;
		case 2:
			if (n)
				b[sa_below(n)] = interesting[sa_below(
					sizeof(interesting))];
			break;
		case 3:	/* insert random bytes */
			len = 1 + sa_below(8);
			if (n + len > SA_MAXLEN)
				break;
			memmove(b + pos + len, b + pos, n - pos);
			for (i = 0; i < len; i++)
				b[pos + i] = (uint8_t)sa_rand();
			n += len;
			break;
		case 4:	/* erase */
			if (pos >= n)
				break;
			len = 1 + sa_below(n - pos);
			if (len > 16)
				len = 1 + sa_below(16);
			memmove(b + pos, b + pos + len, n - pos - len);
			n -= len;
			break;
		case 5:	/* duplicate a chunk */
			if (!n)
				break;
			i = sa_below(n);
			len = 1 + sa_below(n - i);
			if (n + len > SA_MAXLEN)
				break;
			memmove(b + pos + len, b + pos, n - pos);
			memmove(b + pos, b + (i < pos ? i : i + len), len);
			n += len;
			break;
		case 6:	/* splice in part of another corpus input */
			if (!sa_ncorpus)
				break;
			o = &sa_corpus[sa_below(sa_ncorpus)];
			if (!o->n)
				break;
			i = sa_below(o->n);
			len = 1 + sa_below(o->n - i);
			if (pos + len > SA_MAXLEN)
				len = SA_MAXLEN - pos;
			memcpy(b + pos, o->p + i, len);
			if (pos + len > n)
				n = pos + len;
			break;
		case 7:	/* insert a dictionary token */
		case 8:
			if (!sa_ndict)
				break;
			o = &sa_dict[sa_below(sa_ndict)];
			if (n + o->n > SA_MAXLEN)
				break;
			memmove(b + pos + o->n, b + pos, n - pos);
			memcpy(b + pos, o->p, o->n);
			n += o->n;
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("FUZZ_CORPUS");
	const char *dict = getenv("FUZZ_DICT");
	const char *secs = getenv("FUZZ_CHECK_SECONDS");
	const char *seed = getenv("FUZZ_SEED");
	double limit = secs ? atof(secs) : 10.0;
	unsigned long long runs = 0;
	struct timespec t0, t;
	static uint8_t buf[SA_MAXLEN];
	unsigned int i, n;

	if (!dir)
		dir = FUZZ_CORPUS_DIR;
#ifdef FUZZ_DICT_FILE
	if (!dict)
		dict = FUZZ_DICT_FILE;
#endif
#ifdef FUZZ_HAVE_INIT
	LLVMFuzzerInitialize(&argc, &argv);
#else
	(void)argc;
	(void)argv;
#endif
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(sa_dump);
	signal(SIGABRT, sa_signal);
	signal(SIGSEGV, sa_signal);
	signal(SIGFPE, sa_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("# %s: corpus %s\n", FUZZ_TARGET, dir);
	n = sa_load_corpus(dir);
	for (i = 0; i < n; i++)
		sa_run(sa_corpus[i].p, sa_corpus[i].n);
	if (n)
		printf("ok 1 - %s: corpus replay, %u inputs\n", FUZZ_TARGET, n);
	else
		printf("not ok 1 - %s: no corpus in %s\n", FUZZ_TARGET, dir);

	sa_load_dict(dict);
	sa_rng = seed ? strtoull(seed, NULL, 0) :
		 (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (!sa_rng)
		sa_rng = 1;
	printf("# %s: mutation run for %.0f s, FUZZ_SEED=%#llx, %u "
	       "dictionary tokens\n", FUZZ_TARGET, limit,
	       (unsigned long long)sa_rng, sa_ndict);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (limit > 0) {
		size_t len = 0;

		if (n && sa_below(8)) {
			const struct sa_blob *s = &sa_corpus[sa_below(n)];

			memcpy(buf, s->p, s->n);
			len = s->n;
		} else {
			len = sa_below(64);
			for (i = 0; i < len; i++)
				buf[i] = (uint8_t)sa_rand();
		}
		len = sa_mutate(buf, len);
		sa_run(buf, len);
		runs++;
		if (!(runs & 63)) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((double)(t.tv_sec - t0.tv_sec) +
			    (t.tv_nsec - t0.tv_nsec) / 1e9 >= limit)
				break;
		}
	}
	printf("ok 2 - %s: mutation run, %llu inputs\n", FUZZ_TARGET, runs);
	printf("1..2\n");
	return n ? 0 : 1;
}
