import { describe, expect, it } from 'vitest';
import { renderList, tabwrite } from './format.ts';
import { compileTemplate, goString } from './template.ts';

const net = {
  Name: 'RED',
  Id: 'abc123',
  IPAM: { Driver: 'default', Config: [{ Subnet: '10.10.10.0/24', Gateway: '10.10.10.1' }] },
  Containers: { c2: { Name: 'web2' }, c1: { Name: 'web1' } },
  Options: { 'com.docker.network.driver.mtu': '1450' },
  Labels: {},
  EnableIPv6: false,
};

describe('Go templates as docker --format reads them', () => {
  it.each([
    ['{{.Name}}', 'RED'],
    ['{{.Name}}\\t{{.Id}}', 'RED\tabc123'],
    ['{{range .IPAM.Config}}{{.Subnet}} {{end}}', '10.10.10.0/24 '],
    ['{{range .Containers}}{{.Name}},{{end}}', 'web1,web2,'],
    ['{{index .Options "com.docker.network.driver.mtu"}}', '1450'],
    ['{{json .IPAM.Config}}', '[{"Subnet":"10.10.10.0/24","Gateway":"10.10.10.1"}]'],
    ['{{len .Containers}}', '2'],
    ['{{if .EnableIPv6}}v6{{else}}v4 only{{end}}', 'v4 only'],
    ['{{range .Labels}}x{{else}}no labels{{end}}', 'no labels'],
    ['{{.IPAM}}', 'map[Config:[map[Gateway:10.10.10.1 Subnet:10.10.10.0/24]] Driver:default]'],
    ['a {{- .Name -}} b', 'aREDb'],
    ['{{upper .Name}} {{lower .Name}}', 'RED red'],
  ])('%s', (template, expected) => {
    expect(compileTemplate(template)(net)).toBe(expected);
  });

  it.each([
    ['{{.Nope}}', 'no field Nope (there are Name, Id, IPAM, Containers, Options, Labels, EnableIPv6)'],
    ['{{.Name', 'unclosed {{'],
    ['{{range .Containers}}x', '{{range}} has no {{end}}'],
    ['{{end}}', '{{end}} without {{range}} or {{if}}'],
    ['{{printf "%s" .Name}}', 'printf is not a function (there are json, index, len, join, upper, lower)'],
    ['{{json}}', 'json needs an argument'],
  ])('refuses %s', (template, why) => {
    expect(() => compileTemplate(template)(net)).toThrow(`template ${JSON.stringify(template)}: ${why}`);
  });

  it('prints values as Go does', () => {
    expect(goString(undefined)).toBe('<no value>');
    expect(goString(['a', 1, true])).toBe('[a 1 true]');
    expect(goString({ b: 1, a: [] })).toBe('map[a:[] b:1]');
  });
});

describe('--format for lists', () => {
  const spec = {
    table: '{{.ID}}\\t{{.Name}}\\t{{.Driver}}',
    headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER' },
    json: (r: { ID: string; Name: string; Driver: string }) => r,
  };
  const rows = [
    { ID: '0123456789ab', Name: 'RED', Driver: 'overlay' },
    { ID: 'ba9876543210', Name: 'a-longer-name', Driver: 'overlay' },
  ];

  it('table (the default), as Docker aligns it: cells at least 10 wide, 3 spaces of padding', () => {
    expect(renderList(rows, undefined, spec)).toBe(
      'NETWORK ID     NAME            DRIVER\n0123456789ab   RED             overlay\nba9876543210   a-longer-name   overlay\n',
    );
    expect(renderList(rows, 'table {{.Name}}', spec)).toBe('NAME\nRED\na-longer-name\n');
  });

  it('json: one object per line; a template: one line per item', () => {
    expect(renderList(rows, 'json', spec).split('\n')[0]).toBe('{"ID":"0123456789ab","Name":"RED","Driver":"overlay"}');
    expect(renderList(rows, '{{.Name}}:{{.Driver}}', spec)).toBe('RED:overlay\na-longer-name:overlay\n');
    expect(renderList([], '{{.Name}}', spec)).toBe('');
  });

  it('tabwrite leaves the last cell of a line unpadded', () => {
    expect(tabwrite(['a\tb', 'ccc\td'])).toBe('a         b\nccc       d');
  });
});
