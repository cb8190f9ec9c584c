import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { isolationTable } from './isolation.ts';
import { FirewallKeeper } from './keeper.ts';
import { FakeNft } from './testing/fake-nft.ts';
import { flannelMasqTable } from './masquerade.ts';
import { splitRuleset } from './table.ts';

function setup() {
  const lines: string[] = [];
  const nft = new FakeNft();
  const keeper = new FirewallKeeper({ log: createLogger({ write: (l) => lines.push(l) }), runner: nft });
  return { nft, keeper, lines };
}

const RED = { name: 'RED', subnet: '10.10.10.0/24' };
const BLUE = { name: 'BLUE', subnet: '10.10.20.0/24' };
const masq = flannelMasqTable(
  { key: '_default', subnets: ['10.244.3.0/24'], clusterNetworks: { 4: ['10.244.0.0/16'], 6: [] } },
  { masquerade: true, forward: true },
)!;

describe('FirewallKeeper', () => {
  it('applies wanted tables once, then does nothing while the ruleset holds them', async () => {
    const { nft, keeper } = setup();
    keeper.want(isolationTable([RED, BLUE])!);
    keeper.want(masq);
    expect(await keeper.sync()).toEqual({ repaired: [], applied: ['table inet weft_isolation', 'table ip weft_default'] });
    expect([...nft.tables.keys()].sort()).toEqual(['inet weft_isolation', 'ip weft_default']);
    expect(await keeper.sync()).toEqual({ repaired: [], applied: [] });
    expect(nft.applies).toBe(1);
  });

  it('restores a table flushed or edited behind its back, with one warn line naming it (issue 11)', async () => {
    const { nft, keeper, lines } = setup();
    keeper.want(isolationTable([RED, BLUE])!);
    keeper.want(masq);
    await keeper.sync();
    nft.tables.delete('inet weft_isolation');
    nft.tables.get('ip weft_default')!.pop();
    expect((await keeper.sync()).repaired).toEqual(['table inet weft_isolation was missing', 'table ip weft_default was changed']);
    expect(nft.tables.get('inet weft_isolation')!.join('\n')).toContain('ip saddr 10.10.10.0/24 ip daddr { 10.10.20.0/24 } drop');
    expect(lines.filter((l) => l.includes(' warn '))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        'warn {2}firewall: table inet weft_isolation was missing; ' +
          'table ip weft_default was changed \\(a firewall reload or nft flush ruleset\\?\\); restored',
      ),
    );
    expect(await keeper.sync()).toEqual({ repaired: [], applied: [] });
  });

  it('applies a changed wish as a change, not a repair, and removes unwanted tables once', async () => {
    const { nft, keeper } = setup();
    keeper.want(isolationTable([RED, BLUE])!);
    await keeper.sync();
    keeper.want(isolationTable([RED, BLUE, { name: 'GREEN', subnet: '10.10.30.0/24' }])!);
    expect(await keeper.sync()).toEqual({ repaired: [], applied: ['table inet weft_isolation'] });
    keeper.unwant({ family: 'inet', name: 'weft_isolation' });
    expect(await keeper.sync()).toEqual({ repaired: [], applied: ['removed table inet weft_isolation'] });
    expect(nft.tables.size).toBe(0);
    expect(await keeper.sync()).toEqual({ repaired: [], applied: [] });
  });

  it('puts back an adopted chain that went missing', async () => {
    const { nft, keeper } = setup();
    keeper.adopt('the ipMasq rule of RED', {
      present: (t) => t.get('inet weft-cni')?.includes('chain masq_RED {') ?? false,
      script: 'table inet weft-cni {}\nadd chain inet weft-cni masq_RED\n',
    });
    expect((await keeper.sync()).repaired).toEqual(['the ipMasq rule of RED was missing']);
    expect((await keeper.sync()).repaired).toEqual([]);
    expect(splitRuleset(await nft.listRuleset()).get('inet weft-cni')).toContain('chain masq_RED {');
  });

  it('logs an nft failure once per distinct message and never throws', async () => {
    const { nft, keeper, lines } = setup();
    keeper.want(masq);
    nft.fail = 'nft: command not found';
    await keeper.sync();
    await keeper.sync();
    expect(lines.filter((l) => l.includes('command not found'))).toHaveLength(1);
    nft.fail = undefined;
    expect((await keeper.sync()).applied).toEqual(['table ip weft_default']);
  });
});

describe('FirewallKeeper passes while nft runs (issue 28: the daemon never waits for nft)', () => {
  /** A FakeNft whose next apply waits until `release` is called: a `want` can then land while nft runs. */
  function gated() {
    const { nft, keeper } = setup();
    let release = () => {};
    const applied = new Promise<void>((r) => {
      release = r;
    });
    const apply = nft.apply.bind(nft);
    let started = () => {};
    const applying = new Promise<void>((r) => {
      started = r;
    });
    nft.apply = async (script: string) => {
      started();
      await applied;
      return apply(script);
    };
    return { nft, keeper, applying, release };
  }
  const GREEN = { name: 'GREEN', subnet: '10.10.30.0/24' };

  it('runs one pass at a time; calls made during a pass share one more pass after it', async () => {
    const { nft, keeper, applying, release } = gated();
    keeper.want(masq);
    const first = keeper.sync();
    await applying;
    keeper.want(isolationTable([RED, BLUE])!);
    const [second, third] = [keeper.sync(), keeper.sync()];
    expect(second).toBe(third);
    release();
    expect((await first).applied).toEqual(['table ip weft_default']);
    expect((await second).applied).toEqual(['table inet weft_isolation']);
    expect(nft.applies).toBe(2);
  });

  it('a table changed while nft applied its old version is applied again by the next pass', async () => {
    const { nft, keeper, applying, release } = gated();
    keeper.want(isolationTable([RED, BLUE])!);
    const pass = keeper.sync();
    await applying;
    keeper.want(isolationTable([RED, BLUE, GREEN])!);
    release();
    await pass;
    expect((await keeper.sync()).applied).toEqual(['table inet weft_isolation']);
    expect(nft.tables.get('inet weft_isolation')!.join('\n')).toContain('10.10.30.0/24');
    expect(await keeper.sync()).toEqual({ repaired: [], applied: [] });
  });
});

describe('splitRuleset()', () => {
  it('splits nft list ruleset output into tables', async () => {
    const t = splitRuleset('table ip a {\n\tchain c {\n\t}\n}\ntable inet b {\n}\n');
    expect([...t.keys()]).toEqual(['ip a', 'inet b']);
    expect(t.get('ip a')).toBe('table ip a {\n\tchain c {\n\t}\n}');
  });
});
