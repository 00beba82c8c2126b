// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin_gate: hold one chosen task inside generic_access_phys()'s window.
 *
 * generic_access_phys() (mm/memory.c) looks the pte of a VM_IO/VM_PFNMAP
 * address up, drops the page table lock, maps the pfn with ioremap_prot()
 * (which may sleep), looks the pte up again and only copies if it did not
 * change (96667f8a4382, v5.12). Between the two lookups a driver may claim
 * the range and zap the mapping: the window. This module puts a kprobe on
 * ioremap_prot(); when the one armed task gets there from
 * generic_access_phys(), it is diverted into gate_hold(), which sleeps in
 * process context until userspace releases it, then calls the real
 * ioremap_prot() and returns to generic_access_phys() as if nothing
 * happened. Every other task, and the armed one once released, passes.
 *
 * debugfs, in /sys/kernel/debug/iopin_gate/:
 *   arm      write a pid (a thread id): that task is held the next time it
 *            calls ioremap_prot() from generic_access_phys(); the state is
 *            reset. Write 0 to disarm. EBUSY while a task is held. Reads
 *            give the armed pid (0: none).
 *   state    one line: "<state> pid=<pid> holds=<n> passes=<n>
 *            caller=<symbol> phys=0x<address> size=<bytes>", state one of
 *            idle (nothing armed), armed (not in the window yet), held
 *            (sleeping in the window now), released (released and gone on
 *            into generic_access_phys()), killed (a fatal signal ended the
 *            hold: the task went on too). holds counts the holds since the
 *            arm (at most 1), passes the calls of the armed task that were
 *            let through (e.g. generic_access_phys() retrying); caller,
 *            phys and size are those of the held call.
 *   release  write anything: the held task goes on (a later arm is needed
 *            to hold again).
 *
 * A held task keeps a reference on the module: rmmod fails (EBUSY) until
 * it is released or killed. Unloading releases nothing by itself.
 */
#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/wait.h>

enum gate_state { GATE_IDLE, GATE_ARMED, GATE_HELD, GATE_RELEASED, GATE_KILLED };

static const char * const gate_state_names[] = {
	[GATE_IDLE] = "idle", [GATE_ARMED] = "armed", [GATE_HELD] = "held",
	[GATE_RELEASED] = "released", [GATE_KILLED] = "killed",
};

static struct {
	spinlock_t lock;
	enum gate_state state;
	pid_t pid;			/* the armed task (its thread id) */
	struct task_struct *passing;	/* the armed task inside gate_hold() */
	bool release;
	unsigned int holds, passes;
	char caller[KSYM_SYMBOL_LEN];
	unsigned long long phys;
	unsigned long size;
	wait_queue_head_t wq;
	struct dentry *dir;
} gate;

/* The probed function's own prototype; checked against it below. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#define GATE_PROT_T pgprot_t
#else
#define GATE_PROT_T unsigned long
#endif

static void __iomem *gate_hold(resource_size_t phys, unsigned long size, GATE_PROT_T prot);
static_assert(__same_type(&gate_hold, &ioremap_prot),
	      "ioremap_prot() has another prototype on this kernel");

/* Only a call from generic_access_phys() (or a livepatched form of it) is held. */
static bool from_access_phys(const char *sym)
{
	return !strncmp(sym, "generic_access_phys", strlen("generic_access_phys"));
}

/*
 * Runs in the armed task's own context, called (as the kprobe diverted it)
 * by ioremap_prot()'s caller with ioremap_prot()'s arguments.
 */
static void __iomem *gate_hold(resource_size_t phys, unsigned long size, GATE_PROT_T prot)
{
	void *ret_addr = __builtin_return_address(0);
	char sym[KSYM_SYMBOL_LEN];
	void __iomem *ret;
	bool hold;
	long rc = 0;

	sprint_symbol(sym, (unsigned long)ret_addr);
	spin_lock(&gate.lock);
	hold = gate.state == GATE_ARMED && from_access_phys(sym);
	if (hold) {
		gate.state = GATE_HELD;
		gate.holds++;
		strscpy(gate.caller, sym, sizeof(gate.caller));
		gate.phys = phys;
		gate.size = size;
	} else {
		gate.passes++;
	}
	gate.passing = current;
	spin_unlock(&gate.lock);
	if (hold) {
		wake_up_all(&gate.wq);
		rc = wait_event_killable(gate.wq, READ_ONCE(gate.release));
		spin_lock(&gate.lock);
		gate.state = rc ? GATE_KILLED : GATE_RELEASED;
		spin_unlock(&gate.lock);
		wake_up_all(&gate.wq);
	}
	ret = ioremap_prot(phys, size, prot);
	spin_lock(&gate.lock);
	gate.passing = NULL;
	spin_unlock(&gate.lock);
	module_put(THIS_MODULE);
	return ret;
}

static int gate_pre(struct kprobe *p, struct pt_regs *regs)
{
	bool divert;

	spin_lock(&gate.lock);
	divert = gate.pid && current->pid == gate.pid && gate.passing != current &&
		 gate.state == GATE_ARMED;
	spin_unlock(&gate.lock);
	if (!divert || !try_module_get(THIS_MODULE))
		return 0;
	instruction_pointer_set(regs, (unsigned long)gate_hold);
	return 1;	/* regs->ip changed: kprobes goes on there */
}

/* Never runs for a diverted call; makes the probe declare IP modification. */
static void gate_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

static struct kprobe gate_kp = {
	.symbol_name = "ioremap_prot",
	.pre_handler = gate_pre,
	.post_handler = gate_post,
};

static ssize_t arm_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	int pid, rc;

	rc = kstrtoint_from_user(ubuf, len, 10, &pid);
	if (rc)
		return rc;
	if (pid < 0)
		return -EINVAL;
	spin_lock(&gate.lock);
	if (gate.state == GATE_HELD) {
		spin_unlock(&gate.lock);
		return -EBUSY;
	}
	gate.pid = pid;
	gate.state = pid ? GATE_ARMED : GATE_IDLE;
	gate.release = false;
	gate.holds = gate.passes = 0;
	gate.caller[0] = '\0';
	gate.phys = 0;
	gate.size = 0;
	spin_unlock(&gate.lock);
	return len;
}

static ssize_t arm_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[24];
	int n;

	spin_lock(&gate.lock);
	n = scnprintf(buf, sizeof(buf), "%d\n", gate.pid);
	spin_unlock(&gate.lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static ssize_t state_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[KSYM_SYMBOL_LEN + 160];
	int n;

	spin_lock(&gate.lock);
	n = scnprintf(buf, sizeof(buf),
		      "%s pid=%d holds=%u passes=%u caller=%s phys=0x%llx size=%lu\n",
		      gate_state_names[gate.state], gate.pid, gate.holds, gate.passes,
		      gate.caller[0] ? gate.caller : "-", gate.phys, gate.size);
	spin_unlock(&gate.lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static ssize_t release_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	WRITE_ONCE(gate.release, true);
	wake_up_all(&gate.wq);
	return len;
}

static const struct file_operations arm_fops = {
	.owner = THIS_MODULE,
	.read = arm_read,
	.write = arm_write,
	.llseek = default_llseek,
};

static const struct file_operations state_fops = {
	.owner = THIS_MODULE,
	.read = state_read,
	.llseek = default_llseek,
};

static const struct file_operations release_fops = {
	.owner = THIS_MODULE,
	.write = release_write,
	.llseek = default_llseek,
};

static int __init gate_init(void)
{
	int rc;

	spin_lock_init(&gate.lock);
	init_waitqueue_head(&gate.wq);
	gate.dir = debugfs_create_dir("iopin_gate", NULL);
	if (IS_ERR(gate.dir))
		return PTR_ERR(gate.dir);
	debugfs_create_file("arm", 0600, gate.dir, NULL, &arm_fops);
	debugfs_create_file("state", 0400, gate.dir, NULL, &state_fops);
	debugfs_create_file("release", 0200, gate.dir, NULL, &release_fops);
	rc = register_kprobe(&gate_kp);
	if (rc) {
		pr_err("iopin_gate: kprobe on ioremap_prot: %d\n", rc);
		debugfs_remove_recursive(gate.dir);
	}
	return rc;
}

static void __exit gate_exit(void)
{
	unregister_kprobe(&gate_kp);
	debugfs_remove_recursive(gate.dir);
}

module_init(gate_init);
module_exit(gate_exit);
MODULE_DESCRIPTION("iopin: hold one task inside generic_access_phys()'s window");
MODULE_LICENSE("GPL");
