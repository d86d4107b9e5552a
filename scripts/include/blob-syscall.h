/* Raw x86_64 system calls for freestanding blobs (parasite, restorer): no libc. Every argument
 * register is set, unused ones to 0 (prctl and others check that they are). */
#ifndef BLOB_SYSCALL_H
#define BLOB_SYSCALL_H

static inline long sys_call6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
