// SPDX-License-Identifier: GPL-2.0-only
/*
 * generic_access_phys()'s window, held open: 96667f8a4382 ("mm: Close race
 * in generic_access_phys", v5.12) made it look the pte up again after
 * ioremap_prot() and give up when it changed. Racing a claim against that
 * window (ptrace_access/iomem's claim_race) rarely hits it; here the kernel
 * module kmod/iopin_gate.c holds the accessing task inside it, so every
 * run takes the same path:
 *
 *  1. the device (the VM's virtio-rng) is unbound and its common config
 *     page mapped through a mapping route; a tracee inherits the mapping;
 *     an access through the route works (it reads num_queues);
 *  2. an accessor child is armed in the gate and starts one access (read
 *     or write) through an access route; the gate reports it held in
 *     ioremap_prot(), called from generic_access_phys();
 *  3. the driver is bound: /proc/iomem shows its claim and a load through
 *     this process's mapping gets SIGBUS (the mapping was zapped);
 *  4. the accessor is released: the access must fail with EIO, with no
 *     byte read, and a write must not have reached the device.
 *
 * A kernel without the re-check copies from or to the stale pfn instead.
 * Each step checks the state it needs before the next one starts: no
 * verdict depends on timing (the bound on the wait for step 2 only turns a
 * hang into a failure).
 *
 * Self-test: with IOPIN_LIVEPATCH_MUTANT=access-phys-no-recheck,
 * kmod/iopin_lp_access_phys.c, a livepatch that gives the running kernel's
 * generic_access_phys() its pre-fix form, must be active (the VM's /init
 * loads it for the whole boot; elsewhere the setup loads it, journaled):
 * every test must then fail (tools/check-livepatch-mutants.sh).
 *
 * Axes: mapping route x access route x read/write.
 */
#include "claimable.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define GATE_DIR	"/sys/kernel/debug/iopin_gate"
#define GATE_MODULE	"iopin_gate"
/* Only turns a task that never reaches the window into a failure. */
#define GATE_WAIT_MS	60000
/* Written to device_feature_select: no driver ever selects this. */
#define GATE_WRITE_WORD	0x5a5a5a5au
/* What the accessor's read buffer holds before the read. */
#define GATE_READ_MARK	0xc3

/* The livepatch mutants of kmod/ and the module that is each. */
static const struct {
	const char *name;
	const char *module;
} lp_mutants[] = {
	{ "access-phys-no-recheck", "iopin_lp_access_phys" },
};

/* Shared (MAP_SHARED) with the accessor child. */
struct gate_io {
	enum trace_route access;
	bool write;
	volatile char *addr;	/* in the tracee's (and our) mapping */
	char buf[8];
	ssize_t ret;
	int err;
};

FIXTURE(gate) {
	struct claimable c;
	struct gate_io *io;
	struct child accessor;
	bool accessor_running;
};

FIXTURE_VARIANT(gate) {
	struct iomem_route route;
	enum trace_route access;
};
IOPIN_ROUTE_AXES(gate);

TRACE_HOOK_ROUTES(ACCESS_X_MAPS, gate)

/* Not in the shared self: the tracee's fork would write its pid 0 there. */
static struct tracee the_tracee;

static int gate_write(const char *file, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), GATE_DIR "/%s", file);
	return sysfs_write(path, value);
}

/* The gate's state line ("held pid=... caller=..."); "" when unreadable. */
static const char *gate_state(char *buf, size_t len)
{
	if (sysfs_read(GATE_DIR "/state", buf, len))
		snprintf(buf, len, "(cannot read " GATE_DIR "/state: %s)", strerror(errno));
	return buf;
}

static bool gate_in(const char *state, const char *what)
{
	size_t n = strlen(what);

	return !strncmp(state, what, n) && state[n] == ' ';
}

/* Has child pid exited (not reaped)? */
static bool child_gone(pid_t pid)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == pid;
}

/* Wait until the gate holds the armed task; false when it cannot any more. */
static bool gate_await_held(pid_t pid, char *state, size_t len)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (gate_in(gate_state(state, len), "held"))
			return true;
		if (!gate_in(state, "armed") || child_gone(pid))
			return false;
		usleep(2000);
	} while (ms_since(&t0) < GATE_WAIT_MS);
	return false;
}

/* The accessor: one access through its route, held by the gate. */
static int gate_accessor(struct child *c, void *arg)
{
	struct gate_io *io = arg;

	(void)c;
	io->ret = tracee_access(&the_tracee, io->access, io->write, io->addr, io->buf,
				sizeof(io->buf), &io->err);
	return CHILD_OK;
}

/* Load the livepatch mutant named by IOPIN_LIVEPATCH_MUTANT, if any. */
static void load_mutant(struct __test_metadata *_metadata)
{
	const char *name = getenv("IOPIN_LIVEPATCH_MUTANT");
	char why[512], enabled[160], transition[160], v[16] = "";
	struct timespec t0;
	size_t i;
	int rc;

	if (!name || !*name)
		return;
	for (i = 0; i < sizeof(lp_mutants) / sizeof(lp_mutants[0]); i++)
		if (!strcmp(name, lp_mutants[i].name))
			break;
	ASSERT_LT(i, sizeof(lp_mutants) / sizeof(lp_mutants[0]))
		TH_LOG("IOPIN_LIVEPATCH_MUTANT=%s: no such livepatch mutant", name);
	snprintf(enabled, sizeof(enabled), "/sys/kernel/livepatch/%s/enabled", lp_mutants[i].module);
	snprintf(transition, sizeof(transition), "/sys/kernel/livepatch/%s/transition",
		 lp_mutants[i].module);
	/* The VM's /init loads it for the whole boot: once, not per test. */
	if (!sysfs_read(enabled, v, sizeof(v)) && !strcmp(v, "1")) {
		ASSERT_EQ(0, sysfs_read(transition, v, sizeof(v)));
		ASSERT_STREQ("0", v) TH_LOG("%s: livepatch transition not finished", lp_mutants[i].module);
		ksft_print_msg("livepatch mutant %s (%s, loaded at boot) replaces generic_access_phys()\n",
			       name, lp_mutants[i].module);
		return;
	}
	rc = kmod_load(lp_mutants[i].module, NULL, enabled, "0", why, sizeof(why));
	ASSERT_EQ(0, rc) TH_LOG("livepatch mutant %s: %s", name, why);
	/* Patched once no task is in transition any more. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!sysfs_read(transition, v, sizeof(v)) && strcmp(v, "0") && ms_since(&t0) < 30000)
		usleep(20000);
	ASSERT_STREQ("0", v) TH_LOG("%s: livepatch transition did not finish", lp_mutants[i].module);
	ksft_print_msg("livepatch mutant %s (%s) replaces generic_access_phys()\n", name,
		       lp_mutants[i].module);
}

FIXTURE_SETUP(gate)
{
	char why[512];
	int rc;

	claimable_setup(_metadata, &self->c, &variant->route, &the_tracee);
	rc = kmod_load(GATE_MODULE, NULL, GATE_DIR "/release", "1", why, sizeof(why));
	if (rc > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rc) TH_LOG("%s", why);
	ASSERT_EQ(0, access(GATE_DIR "/state", R_OK))
		TH_LOG(GATE_DIR "/state: %s (debugfs not mounted?)", strerror(errno));
	load_mutant(_metadata);
	self->io = mmap(NULL, sizeof(*self->io), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->io);
	self->io->access = variant->access;
}

FIXTURE_TEARDOWN(gate)
{
	if (self->accessor_running) {
		gate_write("release", "1");
		kill(self->accessor.pid, SIGKILL);
		child_wait(&self->accessor);
	}
	tracee_kill(&the_tracee);
	iomem_unmap(&self->c.m);
	if (self->io && self->io != MAP_FAILED)
		munmap(self->io, sizeof(*self->io));
	/* Newest first: the mutant, the gate (released), then the binding. */
	kstate_restore();
}

/* The device's device_feature_select, read through a fresh mapping while unbound. */
static uint32_t feature_select_now(struct __test_metadata *_metadata, struct claimable *c,
				   const struct iomem_route *route)
{
	struct iomem_map m;
	uint32_t v = 0;

	IOMEM_UNBIND_OK(&c->d);
	ASSERT_CLAIMED(&c->d, c->bar, false);
	IOMEM_MAP_OK(&m, route, &c->d, c->bar, c->map_off, page_size());
	v = *(volatile uint32_t *)((volatile char *)m.addr + c->cfg_off);
	iomem_unmap(&m);
	return v;
}

static void held_across_a_claim(struct __test_metadata *_metadata, FIXTURE_DATA(gate) *self,
				const FIXTURE_VARIANT(gate) *variant, bool write)
{
	struct claimable *c = &self->c;
	struct gate_io *io = self->io;
	char state[256], pid[16], mark[8];
	uint16_t nq = 0;
	ssize_t ret;
	int err;

	/* 1. The route works while nobody claims the BAR. */
	TRACEE_START(&the_tracee, "rw-s");
	ret = claimable_read_num_queues(&the_tracee, c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, 8, "read before the claim (not held)");
	ASSERT_BYTES(&nq, &c->num_queues, 2, "num_queues before the claim");

	/* 2. The accessor, held in the window. */
	memset(mark, GATE_READ_MARK, sizeof(mark));
	io->write = write;
	if (write) {
		io->addr = (volatile char *)c->m.addr + c->cfg_off;
		*(uint32_t *)io->buf = GATE_WRITE_WORD;
		*(uint32_t *)(io->buf + 4) = 0;	/* device_feature: read-only */
	} else {
		io->addr = (volatile char *)c->m.addr + c->num_queues_off;
		memcpy(io->buf, mark, sizeof(mark));
	}
	io->ret = -3;
	ASSERT_EQ(0, child_start(&self->accessor, gate_accessor, io));
	self->accessor_running = true;
	snprintf(pid, sizeof(pid), "%d", self->accessor.pid);
	ASSERT_EQ(0, gate_write("arm", pid)) TH_LOG("arming pid %s: %s", pid, strerror(errno));
	ASSERT_TRUE(gate_in(gate_state(state, sizeof(state)), "armed")) TH_LOG("gate: %s", state);
	ASSERT_EQ(0, child_go(&self->accessor));
	ASSERT_TRUE(gate_await_held(self->accessor.pid, state, sizeof(state)))
		TH_LOG("the %s never reached generic_access_phys()'s window: gate: %s",
		       write ? "write" : "read", state);
	ASSERT_NE(NULL, strstr(state, " caller=generic_access_phys"))
		TH_LOG("held, but not from generic_access_phys(): %s", state);
	ksft_print_msg("gate: %s\n", state);

	/* 3. The claim, while it is held. */
	IOMEM_BIND_OK(&c->d, c->driver);
	ASSERT_CLAIMED(&c->d, c->bar, true);
	ASSERT_READ_SIGBUS((char *)c->m.addr + c->num_queues_off, "our mapping once claimed");
	ASSERT_TRUE(gate_in(gate_state(state, sizeof(state)), "held"))
		TH_LOG("the accessor left the window before its release: %s", state);

	/* 4. Released: the access must fail, touching nothing. */
	ASSERT_EQ(0, gate_write("release", "1")) TH_LOG("release: %s", strerror(errno));
	self->accessor_running = false;
	ASSERT_CHILD_OK(&self->accessor, "accessor");
	ASSERT_TRUE(gate_in(gate_state(state, sizeof(state)), "released")) TH_LOG("gate: %s", state);
	ksft_print_msg("gate: %s\n", state);
	ASSERT_NE(-2, io->ret) TH_LOG("accessor attaching to the tracee: %s", strerror(io->err));
	ASSERT_NE(-3, io->ret) TH_LOG("the accessor did not get to its access");
	if (write) {
		uint32_t sel;

		ASSERT_TRACEE_OK(&the_tracee, "tracee");
		sel = feature_select_now(_metadata, c, &variant->route);
		ksft_print_msg("write: returned %zd (%s); device_feature_select after unbind 0x%x\n",
			       io->ret, io->ret < 0 ? strerror(io->err) : "no error", sel);
		ASSERT_ERRNO(io->ret, io->err, EIO, "write held across the claim");
		ASSERT_NE(GATE_WRITE_WORD, sel)
			TH_LOG("device_feature_select holds the word the held write wrote after the claim");
	} else {
		ASSERT_ERRNO(io->ret, io->err, EIO, "read held across the claim");
		ASSERT_BYTES(io->buf, mark, sizeof(mark), "the read's buffer (no byte may come from the device)");
		ASSERT_TRACEE_OK(&the_tracee, "tracee");
	}
}

IOPIN_TEST(gate, read_held_in_the_window_across_a_claim_fails_with_eio,
	   .guard = PHYS_GUARD, .needs = CLAIM_NEEDS)
{
	held_across_a_claim(_metadata, self, variant, false);
}

IOPIN_TEST(gate, write_held_in_the_window_across_a_claim_fails_and_never_reaches_the_device,
	   .guard = PHYS_GUARD, .needs = CLAIM_NEEDS)
{
	held_across_a_claim(_metadata, self, variant, true);
}

IOPIN_MAIN
