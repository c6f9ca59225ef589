package main

import (
	"syscall"

	seccomp "github.com/elastic/go-seccomp-bpf"
)

// The system calls a sandbox has no business making, after Docker's default profile: they change
// the machine (clock, modules, kexec, swap, reboot), reach the kernel's sharpest interfaces (bpf,
// perf, keyrings, userfaultfd, handles that bypass path checks), or build new namespaces and mounts
// (the user namespace is also closed by bubblewrap's --disable-userns). They fail with EPERM;
// clone3 fails with ENOSYS, so that C libraries fall back to clone, whose flags can be checked.
var refused = []string{
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "delete_module", "finit_module",
	"fsconfig", "fsmount", "fsopen", "fspick", "init_module", "ioperm", "iopl", "kcmp",
	"kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
	"name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root",
	"quotactl", "reboot", "request_key", "setns", "settimeofday", "swapoff", "swapon", "syslog",
	"umount2", "unshare", "userfaultfd", "vhangup", "adjtimex", "chroot", "fanotify_init",
}

// The btrfs ioctls that make a subvolume (BTRFS_IOC_SNAP_CREATE, SUBVOL_CREATE and their _V2 forms):
// on a host whose disks are subvolumes of one pool (service/src/backends/local/disk-pool.ts) a
// subvolume made inside a sandbox would have a quota group of its own, outside the sandbox's limit.
// Clones (FICLONE, in the same ioctl family) stay allowed.
var btrfsSubvolumeIoctls = []uint32{0x50009401, 0x5000940e, 0x50009417, 0x50009418}

// ioctlIs matches an ioctl request by its low 32 bits only: the kernel reads the request as an
// unsigned int, so a caller setting the upper bits of the register must not slip past.
func ioctlIs(request uint32) []seccomp.Condition {
	conditions := []seccomp.Condition{{Argument: 1, Operation: seccomp.BitsNotSet, Value: uint64(^request)}}
	for bit := uint32(1); bit != 0; bit <<= 1 {
		if request&bit != 0 {
			conditions = append(conditions, seccomp.Condition{Argument: 1, Operation: seccomp.BitsSet, Value: uint64(bit)})
		}
	}
	return conditions
}

// Every CLONE_NEW* flag: clone(2) with any of them is refused (threads and forks are not).
const cloneNamespaces = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080

func installSeccomp() error {
	eperm := seccomp.Action(uint32(seccomp.ActionErrno) | uint32(syscall.EPERM))
	enosys := seccomp.Action(uint32(seccomp.ActionErrno) | uint32(syscall.ENOSYS))
	var subvolumes []seccomp.NameWithConditions // each one request; any of them matches
	for _, request := range btrfsSubvolumeIoctls {
		subvolumes = append(subvolumes, seccomp.NameWithConditions{Name: "ioctl", Conditions: ioctlIs(request)})
	}
	return seccomp.LoadFilter(seccomp.Filter{
		NoNewPrivs: true,
		Flag:       seccomp.FilterFlagTSync,
		Policy: seccomp.Policy{
			DefaultAction: seccomp.ActionAllow,
			Syscalls: []seccomp.SyscallGroup{
				{Names: refused, Action: eperm},
				{Names: []string{"clone3"}, Action: enosys},
				{
					NamesWithCondtions: []seccomp.NameWithConditions{{
						Name:       "clone",
						Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.BitsSet, Value: cloneNamespaces}},
					}},
					Action: eperm,
				},
				{NamesWithCondtions: subvolumes, Action: eperm},
			},
		},
	})
}
