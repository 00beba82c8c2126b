// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/: verification really detects differences, journaled
 * state comes back after a normal end and after SIGKILL, the memory-type
 * tables cover what the kernel offers.
 */
#include <signal.h>
#include <sys/wait.h>

#include "iopin.h"

TEST(pattern_check_accepts_its_pattern_and_rejects_one_flipped_byte)
{
	char buf[8192], why[192];
	size_t i;

	for (i = 0; i < sizeof(buf); i += 997) {
		pattern_fill(buf, sizeof(buf), 3);
		ASSERT_TRUE(pattern_check(buf, sizeof(buf), 3, why, sizeof(why)));
		buf[i] ^= 0x10;
		ASSERT_FALSE(pattern_check(buf, sizeof(buf), 3, why, sizeof(why)));
	}
	pattern_fill(buf, sizeof(buf), 1);
	ASSERT_FALSE(pattern_check(buf, sizeof(buf), 2, why, sizeof(why)));
	ASSERT_FALSE(pattern_check(buf, sizeof(buf), 0, why, sizeof(why)));
	memset(buf, 0, sizeof(buf));
	ASSERT_TRUE(pattern_check(buf, sizeof(buf), 0, why, sizeof(why)));
}

TEST(bytes_check_finds_the_differing_byte)
{
	char a[4096], b[4096], why[192];

	pattern_fill(a, sizeof(a), 5);
	memcpy(b, a, sizeof(b));
	ASSERT_TRUE(bytes_check(a, b, sizeof(a), why, sizeof(why)));
	b[4095] ^= 1;
	ASSERT_FALSE(bytes_check(a, b, sizeof(a), why, sizeof(why)));
	ASSERT_NE(NULL, strstr(why, "byte 4095"));
}

static char knob[64];

static void make_knob(struct __test_metadata *_metadata, const char *value)
{
	int fd;

	snprintf(knob, sizeof(knob), "/tmp/iopin-knob.XXXXXX");
	fd = mkstemp(knob);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(value), write(fd, value, strlen(value)));
	close(fd);
}

static void expect_knob(struct __test_metadata *_metadata, const char *value,
			bool wait_for_keeper)
{
	char buf[64];
	int fd;

	/* After a kill the keeper restores on its own: wait until it is done. */
	if (wait_for_keeper) {
		fd = open(kstate_lock_path(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, flock(fd, LOCK_EX));
		close(fd);
	}
	ASSERT_EQ(0, sysfs_read(knob, buf, sizeof(buf)));
	EXPECT_STREQ(value, buf);
	unlink(knob);
}

TEST(kstate_restores_on_normal_end)
{
	char buf[64];

	make_knob(_metadata, "17\n");
	ASSERT_EQ(0, kstate_write(knob, "42"));
	ASSERT_EQ(0, sysfs_read(knob, buf, sizeof(buf)));
	ASSERT_STREQ("42", buf);
	kstate_restore();
	expect_knob(_metadata, "17", false);
}

TEST(kstate_restores_after_sigkill)
{
	pid_t pid;
	int status;

	make_knob(_metadata, "always [madvise] never\n");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (kstate_write(knob, "never"))
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	/* A bracketed choice comes back by its name. */
	expect_knob(_metadata, "madvise", true);
}

/* Y/N columns of a PIN_BACKENDS row as booleans. */
#define PIN_COL_Y true
#define PIN_COL_N false

TEST(pin_rows_are_in_the_subsets_their_props_say)
{
	struct { enum pin_id id; bool lt, ro_cpu, ro_dev; } rows[] = {
#define PIN_ROW_COLS(id, name, lt, rc, rd, _)				\
		{ PIN_##id, PIN_COL_##lt, PIN_COL_##rc, PIN_COL_##rd },
		PIN_BACKENDS(PIN_ROW_COLS, _)
#undef PIN_ROW_COLS
	};
	size_t i;

	ASSERT_EQ(PIN_NR, sizeof(rows) / sizeof(rows[0]));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct pin_backend *be = pin_backend_get(rows[i].id);
		bool lt = be->props & PIN_LONGTERM;
		bool ro = lt && !(be->props & PIN_WRITE);
		bool dev = be->props & PIN_DEVICE;

		ASSERT_NE(NULL, be->name);
		ASSERT_NE(NULL, be->probe);
		ASSERT_NE(NULL, be->pin);
		ASSERT_NE(NULL, be->read);
		ASSERT_NE(NULL, be->unpin);
		EXPECT_EQ(lt, rows[i].lt) TH_LOG("%s: lt column vs PIN_LONGTERM", be->name);
		EXPECT_EQ(ro && !dev, rows[i].ro_cpu) TH_LOG("%s: ro_cpu column", be->name);
		EXPECT_EQ(ro && dev, rows[i].ro_dev) TH_LOG("%s: ro_dev column", be->name);
	}
}

TEST(thp_table_covers_every_size_the_kernel_offers)
{
#define KB_OF(id, backing, kb, layout, ...) kb,
	static const unsigned long table[] = { MEM_THP_SIZES(KB_OF, , THP_WHOLE) };
	unsigned long offered[32];
	int n = thp_sizes_offered(offered, 32), i;
	size_t j;

	if (!n)
		SKIP(return, "kernel offers no anonymous THP");
	for (i = 0; i < n; i++) {
		bool found = false;

		for (j = 0; j < sizeof(table) / sizeof(table[0]); j++)
			found |= table[j] == offered[i];
		EXPECT_TRUE(found)
			TH_LOG("kernel offers %lukB anonymous THP: add it to MEM_THP_SIZES()",
			       offered[i]);
	}
}

TEST(base_pages_are_not_taken_for_a_thp)
{
	size_t size = 16 * page_size();
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (geteuid())
		SKIP(return, "needs root to read PFNs");
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, size, MADV_NOHUGEPAGE));
	memset(p, 1, size);
	EXPECT_FALSE(range_is_one_thp(p, size));
	munmap(p, size);
}

/* Records in order; how many of them health_end() would hold against a test. */
static int bad_records(const char *const *recs)
{
	struct health_scan s = { HEALTH_NO_DUMP };
	int n = 0;

	while (*recs)
		n += !!health_record_bad(&s, *recs++);
	return n;
}

TEST(health_forgives_vivids_late_frame_dump_as_each_kernel_logs_it)
{
	/* 6.1: no UID, no Tainted: record. */
	const char *const v61[] = {
		"schedule_timeout: wrong timeout value fffffffffffffff6",
		"CPU: 0 PID: 812 Comm: vivid-000-vid-o Not tainted 6.1.0-57-amd64 #1 Debian 6.1.192-3",
		"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)",
		"Call Trace:", " <TASK>", " dump_stack_lvl+0x44/0x5c", " </TASK>", NULL,
	};
	/* 6.12 and later on a kernel an iopin module tainted. */
	const char *const v612[] = {
		"schedule_timeout: wrong timeout value ffffffffffffffe2",
		"CPU: 0 UID: 0 PID: 901 Comm: vivid-000-vid-o Tainted: G           O       6.12.118+deb12-amd64 #1  Debian 6.12.118-1~deb12u1",
		"Tainted: [O]=OOT_MODULE",
		"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)",
		"Call Trace:", " <TASK>", " </TASK>", NULL,
	};

	EXPECT_EQ(0, bad_records(v61));
	EXPECT_EQ(0, bad_records(v612));
}

TEST(health_holds_other_dumps_and_broken_sequences_against_the_test)
{
	const char *const other_task[] = {
		"schedule_timeout: wrong timeout value fffffffffffffff6",
		"CPU: 1 UID: 0 PID: 77 Comm: kworker/1:1 Not tainted 6.12.118+deb12-amd64 #1",
		"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)",
		"Call Trace:", NULL,
	};
	const char *const interleaved[] = {
		"schedule_timeout: wrong timeout value fffffffffffffff6",
		"CPU: 0 PID: 812 Comm: vivid-000-vid-o Not tainted 6.1.0-57-amd64 #1",
		"virtio_net virtio1 eth0: link up",
		"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)",
		"Call Trace:", NULL,
	};
	const char *const tainted_first[] = {
		"schedule_timeout: wrong timeout value fffffffffffffff6",
		"Tainted: [O]=OOT_MODULE",
		"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)",
		"Call Trace:", NULL,
	};
	const char *const warn[] = {
		"WARNING: CPU: 0 PID: 1 at mm/gup.c:1234 __get_user_pages+0x1/0x2", NULL,
	};

	EXPECT_EQ(1, bad_records(other_task));
	EXPECT_EQ(1, bad_records(interleaved));
	EXPECT_EQ(1, bad_records(tainted_first));
	EXPECT_EQ(1, bad_records(warn));
}

TEST(health_is_clean_when_nothing_happens)
{
	struct health h;
	char report[512];

	health_begin(&h);
	EXPECT_EQ(0, health_end(&h, report, sizeof(report))) TH_LOG("%s", report);
}

IOPIN_MAIN
