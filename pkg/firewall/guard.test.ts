import { describe, expect, it } from 'vitest';
import { FirewallKeeper } from './keeper.ts';
import { GUARD_TABLE, guardElements, guardTable, portKeys, portOf, portScript } from './guard.ts';
import { FakeNft } from './testing/fake-nft.ts';
import { createLogger } from '../log/logger.ts';

const RED1 = { hostVeth: 'veth0a0b0c0d', mac: '02:42:0A:0A:0A:42', ips: ['10.10.10.66/27', 'fd00:10:0:0:1b::2/80'] };

describe('portOf()', () => {
  it('takes a record’s port, MAC and addresses as canonical values', async () => {
    expect(portOf(RED1)).toEqual({ name: 'veth0a0b0c0d', mac: '02:42:0a:0a:0a:42', ipv4: ['10.10.10.66'], ipv6: ['fd00:10::1b:0:0:2'] });
  });

  it('refuses anything nft could read as more than a value (issue 25: nothing from a file is pasted in)', async () => {
    expect(portOf({ ...RED1, hostVeth: 'veth" } drop; #' })).toBeUndefined();
    expect(portOf({ ...RED1, hostVeth: 'a-name-longer-than-15' })).toBeUndefined();
    expect(portOf({ ...RED1, mac: '02:42:0a:0a:0a' })).toBeUndefined();
    expect(portOf({ ...RED1, mac: undefined })).toBeUndefined();
    expect(portOf({ ...RED1, ips: ['10.10.10.66/27', '10.10.10.1 } accept'] })).toBeUndefined();
  });
});

describe('guardElements()', () => {
  it('gives each set of the guard its elements: the port, its MAC, ARP pairs (and the probe address), addresses, ND targets', async () => {
    const e = guardElements([portOf(RED1)!], ['vethffffffff']);
    expect(e).toEqual({
      ports: ['"veth0a0b0c0d"'],
      quarantine: ['"vethffffffff"'],
      macs: ['"veth0a0b0c0d" . 02:42:0a:0a:0a:42'],
      arps4: ['"veth0a0b0c0d" . 02:42:0a:0a:0a:42 . 10.10.10.66', '"veth0a0b0c0d" . 02:42:0a:0a:0a:42 . 0.0.0.0'],
      addrs4: ['"veth0a0b0c0d" . 10.10.10.66'],
      addrs6: ['"veth0a0b0c0d" . fd00:10::1b:0:0:2'],
      targets6: ['"veth0a0b0c0d" . 0xfd00001000000000001b000000000002'],
    });
  });

  it('leaves out quarantined names that are not interface names', async () => {
    expect(guardElements([], ['ok0', 'bad name']).quarantine).toEqual(['"ok0"']);
  });
});

describe('guardTable()', () => {
  it('checks only ports it knows, drops quarantined ones, passes what IPv6 needs (link-local, :: for DAD and MLD)', async () => {
    const body = guardTable().body.join('\n');
    expect(body).toMatch(/iifname @quarantine drop[^\n]*\n\s*iifname != @ports accept/);
    expect(body).toContain('ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } accept');
    expect(body).toContain('ip6 saddr != fe80::/10 iifname . ip6 saddr != @addrs6 drop');
    expect(body).toContain('icmpv6 type { nd-router-advert, nd-redirect } drop');
    expect(body).toContain('iifname . arp saddr ether . arp saddr ip @arps4 accept');
  });
});

describe('portScript()', () => {
  it('adds the port to `ports` last, in the same script as everything it may send', async () => {
    const lines = portScript(portOf(RED1)!).trim().split('\n');
    expect(lines.at(-1)).toBe(`add element bridge ${GUARD_TABLE} ports { "veth0a0b0c0d" }`);
    expect(lines).toHaveLength(6);
    expect(portScript(portOf({ ...RED1, ips: ['10.10.10.66/27'] })!)).not.toContain('addrs6');
  });
});

describe('the guard kept by the FirewallKeeper', () => {
  const setup = () => {
    const nft = new FakeNft();
    const lines: string[] = [];
    const keeper = new FirewallKeeper({ log: createLogger({ write: (l) => lines.push(l) }), runner: nft });
    return { nft, keeper, lines };
  };

  it('adds and removes elements one by one, never replacing the table for them, and keeps an element the plugin added', async () => {
    const { nft, keeper, lines } = setup();
    let ports = [portOf(RED1)!];
    keeper.want({ ...guardTable(), elements: () => guardElements(ports) });
    expect((await keeper.sync()).applied).toEqual(['table bridge weft_guard']);
    expect(nft.sets.get('bridge weft_guard')?.get('addrs4')).toEqual(new Set(['"veth0a0b0c0d" . 10.10.10.66']));
    expect(await keeper.sync()).toEqual({ repaired: [], applied: [] });

    // The plugin adds a new port's elements itself; its record is already what the daemon reads.
    const two = portOf({ hostVeth: 'veth11111111', mac: '02:42:0a:0a:0a:43', ips: ['10.10.10.67/27'] })!;
    nft.apply(portScript(two));
    ports = [portOf(RED1)!, two];
    const applies = nft.applies;
    expect(await keeper.sync()).toEqual({ repaired: [], applied: [] });
    expect(nft.applies).toBe(applies);

    // The first port goes: its elements are deleted, the second's stay.
    ports = [two];
    expect(await keeper.sync()).toEqual({ repaired: [], applied: ['elements of table bridge weft_guard'] });
    expect(nft.sets.get('bridge weft_guard')?.get('ports')).toEqual(new Set(['"veth11111111"']));
    expect(nft.sets.get('bridge weft_guard')?.get('addrs6')).toEqual(new Set());
    expect(lines.filter((l) => l.includes(' warn '))).toEqual([]);
  });

  it('restores the table with its elements after nft flush ruleset, as a repair', async () => {
    const { nft, keeper } = setup();
    keeper.want({ ...guardTable(), elements: () => guardElements([portOf(RED1)!]) });
    await keeper.sync();
    nft.tables.clear();
    nft.sets.clear();
    expect((await keeper.sync()).repaired).toEqual(['table bridge weft_guard was missing']);
    expect(nft.sets.get('bridge weft_guard')?.get('macs')).toEqual(new Set(['"veth0a0b0c0d" . 02:42:0a:0a:0a:42']));
    expect(keeper.printed()['bridge weft_guard']).not.toContain('elements');
  });
});

describe('portKeys()', () => {
  it('lays each key out as nft does: every field padded to 4 bytes, the name in 16, addresses in network order', async () => {
    const keys = Object.fromEntries(portKeys(portOf(RED1)!).map((k) => [k.set, k.keys.map((b) => Buffer.from(b).toString('hex'))]));
    const name = Buffer.from('veth0a0b0c0d').toString('hex').padEnd(32, '0');
    expect(keys.ports).toEqual([name]);
    expect(keys.macs).toEqual([`${name}02420a0a0a420000`]);
    expect(keys.arps4).toEqual([`${name}02420a0a0a4200000a0a0a42`, `${name}02420a0a0a420000${'00'.repeat(4)}`]);
    expect(keys.addrs6).toEqual([`${name}fd00001000000000001b000000000002`]);
    expect(Object.keys(keys)).toEqual(['macs', 'arps4', 'addrs4', 'addrs6', 'targets6', 'ports']);
  });
});
