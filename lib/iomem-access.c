// SPDX-License-Identifier: GPL-2.0-only
/*
 * iomem: a fault-safe access probe (SIGBUS/SIGSEGV become outcomes) and the
 * checks of its outcomes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "iomem-int.h"
#include "kernel.h"
#include "needs.h"

/* ---- fault-safe access ------------------------------------------------------ */

static sigjmp_buf probe_jmp;
static volatile sig_atomic_t probe_sig;
static volatile int probe_code;
static void *volatile probe_addr;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	probe_sig = sig;
	probe_code = si->si_code;
	probe_addr = si->si_addr;
	siglongjmp(probe_jmp, 1);
}

static struct iomem_access probe(volatile void *addr, bool write, uint32_t value)
{
	static char altstack[64 * 1024];
	struct sigaction sa = { 0 }, old_bus, old_segv;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) }, old_ss;
	struct iomem_access a = { IOMEM_ACCESS_OK, 0, 0, NULL };
	volatile uint32_t got = 0;	/* survives the siglongjmp() */

	sigaltstack(&ss, &old_ss);
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	probe_sig = 0;
	if (!sigsetjmp(probe_jmp, 1)) {
		if (write) {
			*(volatile uint32_t *)addr = value;
			__sync_synchronize();	/* drain a WC buffer */
		} else {
			got = *(const volatile uint32_t *)addr;
		}
	}
	a.value = got;
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaltstack(&old_ss, NULL);
	if (probe_sig) {
		a.outcome = probe_sig == SIGBUS ? IOMEM_ACCESS_SIGBUS : IOMEM_ACCESS_SIGSEGV;
		a.code = probe_code;
		a.fault_addr = probe_addr;
		a.value = 0;
	}
	return a;
}

struct iomem_access iomem_read32(const volatile void *addr)
{
	return probe((volatile void *)addr, false, 0);
}

struct iomem_access iomem_write32(volatile void *addr, uint32_t value)
{
	return probe(addr, true, value);
}

static const char *bus_code(int code)
{
	switch (code) {
	case BUS_ADRALN: return "BUS_ADRALN";
	case BUS_ADRERR: return "BUS_ADRERR";
	case BUS_OBJERR: return "BUS_OBJERR";
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	default: return "si_code?";
	}
}

const char *iomem_access_str(const struct iomem_access *a, char *buf, size_t len)
{
	switch (a->outcome) {
	case IOMEM_ACCESS_OK:
		snprintf(buf, len, "ok, value 0x%08x", a->value);
		break;
	case IOMEM_ACCESS_SIGBUS:
		snprintf(buf, len, "SIGBUS %s (%d) at %p", bus_code(a->code), a->code,
			 a->fault_addr);
		break;
	case IOMEM_ACCESS_SIGSEGV:
		snprintf(buf, len, "SIGSEGV si_code %d at %p", a->code, a->fault_addr);
		break;
	}
	return buf;
}

/* The self-test switch, as in lib/verify.c: every expectation is corrupted. */
static bool fault_injected(void)
{
	return iomem_env_is("IOPIN_SELFTEST_FAULT", "verify");
}

bool iomem_check_ok(const struct iomem_access *a, uint32_t want, bool any_value,
		    char *why, size_t len)
{
	bool want_ok = !fault_injected();
	char got[96];

	if (fault_injected())
		want = ~want;	/* and expect a fault instead */
	if ((a->outcome == IOMEM_ACCESS_OK) != want_ok) {
		snprintf(why, len, "access: %s, expected %s", iomem_access_str(a, got, sizeof(got)),
			 want_ok ? "success" : "a fault (self-test switch)");
		return false;
	}
	if (want_ok && !any_value && a->value != want) {
		snprintf(why, len, "read 0x%08x, expected 0x%08x", a->value, want);
		return false;
	}
	return true;
}

bool iomem_check_sigbus(const struct iomem_access *a, const volatile void *addr,
			char *why, size_t len)
{
	const void *want = (const void *)addr;
	char got[96];

	if (fault_injected())
		want = (const char *)want + 1;	/* the exact address, off by one */
	if (a->outcome != IOMEM_ACCESS_SIGBUS || a->code != BUS_ADRERR ||
	    a->fault_addr != want) {
		snprintf(why, len, "access: %s, expected SIGBUS BUS_ADRERR at %p",
			 iomem_access_str(a, got, sizeof(got)), want);
		return false;
	}
	return true;
}

bool iomem_check_errno(int got_errno, int want_errno, char *why, size_t len)
{
	if (got_errno < 0)
		got_errno = -got_errno;
	if (fault_injected())
		want_errno = want_errno ? 0 : EIO;
	if (got_errno == want_errno)
		return true;
	snprintf(why, len, "%s, expected %s",
		 got_errno ? strerror(got_errno) : "success",
		 want_errno ? strerror(want_errno) : "success");
	return false;
}

