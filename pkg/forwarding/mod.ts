export { hostSysctls, holds, sysctlName, type HostSysctl } from './rule.ts';
export { keepHostSysctls, type KeepReport, type SysctlOps } from './keep.ts';
