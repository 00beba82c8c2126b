/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ptrace_access/iomem, the race of a read with a claim (96667f8a4382).
 * Tests, not declarations: included once, by ptrace_access/iomem.c, in
 * their place in that file (the harness registers fixtures and tests in
 * definition order), because the harness's lists are static to one
 * translation unit.
 */

/*
 * The window 96667f8a4382 closed: generic_access_phys() looks the pte up,
 * ioremaps its pfn (which may sleep) and copies; a claim that zaps the
 * mapping in between must make the copy fail, not reach the device.
 *
 * Each cycle maps the unbound device afresh (a claim zaps a mapping for
 * good) and readers loop over its state register (iomem_claim_regs();
 * virtio: device_status) through a mem
 * file: /proc/self/mem of this process, or /proc/PID/mem of this process
 * from a debugger child. The readers run SCHED_IDLE on the CPU the probe
 * runs on; the binder runs SCHED_FIFO there, sleeps a random while and
 * binds. Its wakeup preempts a reader wherever it is, often between lookup
 * and copy, and the reader resumes only when the binder blocks, by then
 * after the claim zapped the mapping and the driver wrote the status. The
 * status of the unbound device does not change (virtio leaves ACKNOWLEDGE
 * on unbind); the driver writes it only after its claim (reset, then
 * ACKNOWLEDGE | DRIVER ...): a read that returns another value went through
 * a revoked pfn.
 */
#define RACE_READERS	2
#define RACE_MIN_CYCLES	24

/* Shared (MAP_SHARED) with the debugger child. */
struct claim_race {
	char *volatile reg;	/* device_status in the current mapping */
	volatile bool stop;
	int cpu;		/* the probe's CPU: everybody runs there */
	pid_t pid;		/* whose mem the readers read: this process */
	bool self_mem;		/* /proc/self/mem, else /proc/PID/mem */
	unsigned char unbound;	/* the status while no driver is bound */
	int ready;		/* readers running on cpu as SCHED_IDLE */
	long same, failed, other;	/* reads: the unbound status, error, another */
	unsigned char last_other;
};

static bool run_on(int cpu, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	return !sched_setaffinity(0, sizeof(cpus), &cpus) && !sched_setscheduler(0, policy, &sp);
}

static void *race_reader(void *arg)
{
	struct claim_race *r = arg;
	unsigned char st;
	char path[64];
	int fd;

	if (r->self_mem)
		snprintf(path, sizeof(path), "/proc/self/mem");
	else
		snprintf(path, sizeof(path), "/proc/%d/mem", r->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !run_on(r->cpu, SCHED_IDLE, 0))
		return NULL;	/* never ready: the binder says so */
	__atomic_add_fetch(&r->ready, 1, __ATOMIC_RELEASE);
	while (!r->stop) {
		if (pread(fd, &st, 1, (off_t)(uintptr_t)r->reg) != 1) {
			__atomic_add_fetch(&r->failed, 1, __ATOMIC_RELAXED);
		} else if (st == r->unbound) {
			__atomic_add_fetch(&r->same, 1, __ATOMIC_RELAXED);
		} else {
			r->last_other = st;
			__atomic_add_fetch(&r->other, 1, __ATOMIC_RELAXED);
		}
	}
	close(fd);
	return NULL;
}

static int readers_start(struct claim_race *r, pthread_t *t)
{
	int i;

	for (i = 0; i < RACE_READERS; i++)
		if (pthread_create(&t[i], NULL, race_reader, r))
			return i;
	return i;
}

static void readers_join(pthread_t *t, int n)
{
	while (n--)
		pthread_join(t[n], NULL);
}

/* The debugger child: its readers read the parent's /proc/PID/mem. */
static int race_debugger(struct child *c, void *arg)
{
	pthread_t t[RACE_READERS];
	int n = readers_start(arg, t);

	(void)c;
	readers_join(t, n);
	return n == RACE_READERS ? CHILD_OK : child_fail("could not start the readers");
}

/* Sleep-poll (the binder must not spin over its SCHED_IDLE readers). */
static bool await_count(const long *count, long at_least)
{
	int i;

	for (i = 0; i < 100000; i++) {
		if (__atomic_load_n(count, __ATOMIC_ACQUIRE) >= at_least)
			return true;
		usleep(100);
	}
	return false;
}

FIXTURE(claim_race) {
	struct claimable c;
	struct claim_race *r;
	pthread_t readers[RACE_READERS];	/* /proc/self/mem: ours */
	int nreaders;
	struct child debugger;		/* /proc/PID/mem: its own */
};

FIXTURE_VARIANT(claim_race) {
	struct iomem_route route;
	enum trace_route access;
};
IOPIN_ROUTE_AXES(claim_race);

TRACE_MEM_FILE_ROUTES(ACCESS_X_MAPS, claim_race)

FIXTURE_SETUP(claim_race)
{
	claimable_setup(_metadata, &self->c, &variant->route, &the_tracee);
	self->r = mmap(NULL, sizeof(*self->r), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r);
	self->r->cpu = iomem_dev_probe_cpu(&self->c.d);
	ASSERT_LE(0, self->r->cpu) TH_LOG("%s: no local_cpulist", self->c.d.bdf);
	self->r->pid = getpid();
	self->r->self_mem = variant->access == ROUTE_PROC_SELF_MEM;
	self->r->reg = (char *)self->c.m.addr + self->c.status_off;
	self->r->unbound = *(volatile uint8_t *)self->r->reg;
}

FIXTURE_TEARDOWN(claim_race)
{
	if (self->r && self->r != MAP_FAILED) {
		self->r->stop = true;
		readers_join(self->readers, self->nreaders);
		if (self->debugger.pid > 0)
			child_wait(&self->debugger);
		munmap(self->r, sizeof(*self->r));
	}
	iomem_unmap(&self->c.m);
	kstate_restore();
}

IOPIN_TEST(claim_race, reads_preempted_by_a_claim_never_see_what_the_driver_wrote,
	   .guard = PHYS_GUARD, .needs = CLAIM_NEEDS)
{
	struct claimable *c = &self->c;
	struct claim_race *r = self->r;
	struct timespec t0;
	long cycles, ms = 0, same;
	char why[320] = "";
	uint8_t st;

	if (r->self_mem) {
		self->nreaders = readers_start(r, self->readers);
	} else {
		ASSERT_EQ(0, child_start(&self->debugger, race_debugger, r));
		ASSERT_EQ(0, child_go(&self->debugger));
	}
	ASSERT_TRUE(await_count((long *)&r->ready, RACE_READERS))
		TH_LOG("readers not running on CPU %d as SCHED_IDLE", r->cpu);
	ASSERT_TRUE(run_on(r->cpu, SCHED_FIFO, 1))
		TH_LOG("binder to SCHED_FIFO on CPU %d: %s", r->cpu, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (cycles = 0; cycles < RACE_MIN_CYCLES || ms < race_ms(); cycles++) {
		if (cycles)
			IOMEM_MAP_OK(&c->m, &variant->route, &c->d, c->bar, c->map_off, page_size());
		st = *(volatile uint8_t *)((char *)c->m.addr + c->status_off);
		ASSERT_EQ(r->unbound, st)
			TH_LOG("status of the unbound device changed, cycle %ld", cycles);
		same = r->same;
		r->reg = (char *)c->m.addr + c->status_off;
		ASSERT_TRUE(await_count(&r->same, same + RACE_READERS))
			TH_LOG("no reader read the new mapping, cycle %ld", cycles);
		usleep(random() % 500);
		if (iomem_bind(&c->d, c->driver, why, sizeof(why)))
			break;
		ASSERT_READ_SIGBUS((char *)c->m.addr + c->status_off, "the mapping once claimed");
		if (iomem_unbind(&c->d, why, sizeof(why)))
			break;
		iomem_unmap(&c->m);
		ms = ms_since(&t0);
	}
	ASSERT_TRUE(run_on(r->cpu, SCHED_OTHER, 0));
	ksft_print_msg("%ld claims in %ld ms on CPU %d: reads of status 0x%02x (unbound) %ld, failed %ld, of another status %ld (last 0x%02x)\n",
		       cycles, ms, r->cpu, r->unbound, r->same, r->failed, r->other, r->last_other);
	ASSERT_EQ(0, why[0]) TH_LOG("cycle %ld: %s", cycles, why);
	ASSERT_BYTES(&r->other, &(long){ 0 }, sizeof(r->other),
		     "count of reads that returned a status the driver wrote after its claim");
}

