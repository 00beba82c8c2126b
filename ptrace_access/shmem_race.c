// SPDX-License-Identifier: GPL-2.0-only
/*
 * CVE-2022-2590, Dirty COW on shmem: UFFDIO_CONTINUE maps a shmem page
 * read-only but dirty into a MAP_PRIVATE mapping; before 5535be309971
 * (v6.0) a FOLL_FORCE write racing with MADV_DONTNEED (and a reader
 * that faults the page back in through the handler) could take that
 * dirty read-only pte as its COW copy and write the page cache of a file
 * it may not write (here: a write-sealed memfd). The race runs for a
 * bounded time (IOPIN_RACE_MS); the file must stay unchanged.
 */
#include "ptrace_access.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>

#define MIN_WRITES	100

FIXTURE(shmem_uffd_minor) {
	int memfd;
	int uffd;
	int mem_fd;
	char *map;
};

FIXTURE_SETUP(shmem_uffd_minor)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MINOR_SHMEM };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MINOR };
	size_t ps = page_size();
	char *buf;

	self->memfd = self->uffd = self->mem_fd = -1;
	PROC_MEM_FORCE_NEEDED(ROUTE_PROC_SELF_MEM, false);
	self->memfd = memfd_create("iopin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_LE(0, self->memfd);
	buf = malloc(ps);
	ASSERT_NE(NULL, buf);
	pattern_fill(buf, ps, 1);
	ASSERT_EQ((ssize_t)ps, pwrite(self->memfd, buf, ps, 0));
	free(buf);
	/* Nobody may write the file now: only the bug could. */
	ASSERT_EQ(0, fcntl(self->memfd, F_ADD_SEALS,
			   F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		TH_LOG("sealing: %s", strerror(errno));
	self->map = mmap(NULL, ps, PROT_READ, MAP_PRIVATE, self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->map);

	self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (self->uffd < 0 && errno == ENOSYS)
		SKIP(return, "no userfaultfd (CONFIG_USERFAULTFD)");
	if (self->uffd < 0 && errno == EPERM)
		SKIP(return, "userfaultfd: vm.unprivileged_userfaultfd=0 and no CAP_SYS_PTRACE");
	ASSERT_LE(0, self->uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	if (ioctl(self->uffd, UFFDIO_API, &api) ||
	    !(api.features & UFFD_FEATURE_MINOR_SHMEM))
		SKIP(return, "userfaultfd does not offer UFFD_FEATURE_MINOR_SHMEM (v5.14+)");
	reg.range.start = (uintptr_t)self->map;
	reg.range.len = ps;
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_REGISTER, &reg))
		TH_LOG("UFFDIO_REGISTER minor: %s", strerror(errno));
	ASSERT_TRUE(reg.ioctls & (1ULL << _UFFDIO_CONTINUE));
	self->mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mem_fd);
}

FIXTURE_TEARDOWN(shmem_uffd_minor)
{
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, page_size());
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->mem_fd >= 0)
		close(self->mem_fd);
	if (self->memfd >= 0)
		close(self->memfd);
}

struct race {
	char *map;
	int uffd, mem_fd;
	volatile bool stop_access, stop_handler;
	long writes, continues;
};

/* Resolve every minor fault by mapping the page cache page (R/O, dirty). */
static void *minor_fault_handler(void *arg)
{
	struct race *r = arg;
	struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };

	while (!r->stop_handler) {
		struct uffdio_continue cont = {
			.range = { (uintptr_t)r->map, page_size() } };
		struct uffd_msg msg;

		if (poll(&pfd, 1, 10) <= 0 ||
		    read(r->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (!ioctl(r->uffd, UFFDIO_CONTINUE, &cont))
			r->continues++;
		else	/* already mapped (EEXIST): just wake the waiter */
			ioctl(r->uffd, UFFDIO_WAKE, &cont.range);
	}
	return NULL;
}

/* GUP from /proc/self/mem cannot wait for userfaultfd: a read faults the page in. */
static void *touch_loop(void *arg)
{
	struct race *r = arg;

	while (!r->stop_access)
		(void)*(volatile char *)r->map;
	return NULL;
}

/*
 * Zap the page over and over. When no forced write has got through for a
 * while (seen on 6.1 under TCG: 0 writes in 3 s against 2779 CONTINUEs),
 * leave the page mapped for a millisecond after each zap, so that the
 * writer gets its turn: the race is still there, and it ends.
 */
static void *discard_loop(void *arg)
{
	struct race *r = arg;
	long seen = -1, idle = 0;

	while (!r->stop_access) {
		madvise(r->map, page_size(), MADV_DONTNEED);
		if (r->writes != seen) {
			seen = r->writes;
			idle = 0;
		} else if (++idle > 50) {
			usleep(1000);
			continue;
		}
		sched_yield();	/* let the others in on a 2-CPU emulated VM */
	}
	return NULL;
}

static void *force_write_loop(void *arg)
{
	struct race *r = arg;
	char byte = 0x5a;

	while (!r->stop_access)
		if (pwrite(r->mem_fd, &byte, 1, (uintptr_t)r->map + r->writes % page_size()) == 1)
			r->writes++;
	return NULL;
}

IOPIN_TEST(shmem_uffd_minor, forced_writes_racing_uffdio_continue_leave_the_file_unchanged,
	   .guard = "5535be309971 v6.0 mm/gup: fix FOLL_FORCE COW security issue and remove FOLL_COW; CVE-2022-2590",
	   .needs = NEEDS_ROOT)
{
	struct race r = { .map = self->map, .uffd = self->uffd, .mem_fd = self->mem_fd };
	struct timespec ts = { 0, 10 * 1000000 };
	pthread_t handler, writer, discarder, toucher;
	size_t ps = page_size();
	char *file;
	long ms;

	ASSERT_EQ(0, pthread_create(&handler, NULL, minor_fault_handler, &r));
	ASSERT_EQ(0, pthread_create(&writer, NULL, force_write_loop, &r));
	ASSERT_EQ(0, pthread_create(&discarder, NULL, discard_loop, &r));
	ASSERT_EQ(0, pthread_create(&toucher, NULL, touch_loop, &r));
	/*
	 * At least IOPIN_RACE_MS, and on until enough writes went through
	 * (a slow emulated VM), but never more than ten times that.
	 */
	for (ms = 0; ms < 10 * race_ms() && (ms < race_ms() || r.writes < MIN_WRITES);
	     ms += 10)
		nanosleep(&ts, NULL);
	/* The handler goes last: a write may be waiting for it. */
	r.stop_access = true;
	pthread_join(writer, NULL);
	pthread_join(discarder, NULL);
	pthread_join(toucher, NULL);
	r.stop_handler = true;
	pthread_join(handler, NULL);
	ksft_print_msg("%ld forced writes, %ld UFFDIO_CONTINUEs in %ld ms\n",
		       r.writes, r.continues, ms);
	ASSERT_LT(0, r.writes) TH_LOG("no forced write went through");
	ASSERT_LT(0, r.continues) TH_LOG("no minor fault was resolved: no race");
	file = mmap(NULL, ps, PROT_READ, MAP_SHARED, self->memfd, 0);
	ASSERT_NE(MAP_FAILED, file);
	ASSERT_PATTERN(file, ps, 1, "sealed shmem file after the race");
	munmap(file, ps);
}

IOPIN_MAIN
