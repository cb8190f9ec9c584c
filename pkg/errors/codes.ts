/**
 * Every error code weft can report, in one registry (house rule R6). A code is stable once released:
 * never reuse a retired one. `cni` is the code the CNI plugin reports for it (spec table: 1-7, 11, 50, 51;
 * 100+ is ours; 999 is the reference plugins' "anything else"). docs/errors.md documents each code and a
 * unit test keeps the two in step.
 */
export const CODES = {
  WEFT_CNI_VERSION: { cni: 1, summary: 'the cniVersion in the config is not one this plugin supports for this verb' },
  WEFT_UNSUPPORTED_FIELD: { cni: 2, summary: 'a config field has a value weft does not support' },
  WEFT_UNKNOWN_CONTAINER: { cni: 3, summary: 'the container (its network namespace) does not exist' },
  WEFT_INVALID_ENV: { cni: 4, summary: 'a CNI_* environment variable is missing or invalid' },
  WEFT_IO: { cni: 5, summary: 'reading input or writing state failed' },
  WEFT_DECODE: { cni: 6, summary: 'input (JSON config, a state file, an etcd value) could not be decoded' },
  WEFT_INVALID_CONFIG: { cni: 7, summary: 'a configuration value is missing or invalid' },
  WEFT_INVALID_NETNS: { cni: 8, summary: 'a path given as a network namespace is not one' },
  WEFT_TRY_AGAIN: { cni: 11, summary: 'a transient condition; retry later (e.g. the daemon has not written the lease yet)' },
  WEFT_NOT_AVAILABLE: { cni: 50, summary: 'the plugin cannot serve ADD now (STATUS)' },
  WEFT_LIMITED_CONNECTIVITY: {
    cni: 51,
    summary: 'the plugin cannot serve ADD, and existing containers may have limited connectivity (STATUS)',
  },
  WEFT_INVALID_ARGUMENT: { cni: 7, summary: 'a value passed to weft is out of range or malformed' },
  WEFT_KERNEL: { cni: 100, summary: 'the kernel refused a netlink request or a sysctl write' },
  WEFT_ADDRESS_EXHAUSTED: { cni: 101, summary: 'no free address is left in the host subnet' },
  WEFT_ADDRESS_UNAVAILABLE: { cni: 102, summary: 'the requested address is taken or outside the subnet' },
  WEFT_ALREADY_EXISTS: { cni: 103, summary: 'the interface or attachment already exists' },
  WEFT_NOT_FOUND: { cni: 104, summary: 'the named object (network, endpoint, link) does not exist' },
  WEFT_STORE: { cni: 105, summary: 'the cluster store (etcd) refused a request' },
  WEFT_STORE_UNAVAILABLE: { cni: 106, summary: 'no etcd endpoint could be reached or could serve' },
  WEFT_STORE_TLS: { cni: 107, summary: 'TLS to etcd failed (certificate untrusted, expired, for another name, refused, or unreadable)' },
  WEFT_STORE_AUTH: { cni: 108, summary: "etcd refused the credentials, or the user may not access weft's keys" },
  WEFT_LEASE_UNAVAILABLE: {
    cni: 109,
    summary: "no subnet can be leased: the network is full or removed, or this host's subnet is held by another host",
  },
  WEFT_DOCKER: { cni: 110, summary: 'the local Docker Engine could not be reached or refused a request' },
  WEFT_HOST_CONFLICT: { cni: 111, summary: "another live host runs weft with this host's public address" },
  WEFT_INTERNAL: { cni: 999, summary: 'an unexpected failure; please report it' },
} as const satisfies Record<string, { cni: number; summary: string }>;

export type WeftCode = keyof typeof CODES;
