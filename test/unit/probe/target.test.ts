// Target and --resolve parsing, against plain tables of inputs.
import { describe, expect, it } from 'vitest';
import { parseResolveOption } from '../../../src/probe/resolve.js';
import { parseTarget } from '../../../src/probe/target.js';

describe('targets', () => {
  const ok: [string, { host: string; port: number; label: string; path?: string }][] = [
    ['registry.ollama.ai', { host: 'registry.ollama.ai', port: 443, label: 'registry.ollama.ai:443' }],
    ['Registry.Ollama.AI.:8443', { host: 'registry.ollama.ai', port: 8443, label: 'registry.ollama.ai:8443' }],
    ['10.0.0.5:11434', { host: '10.0.0.5', port: 11434, label: '10.0.0.5:11434' }],
    ['[::1]:8443', { host: '::1', port: 8443, label: '[::1]:8443' }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: 443, label: '[2001:db8::1]:443' }],
    ['2001:db8::1', { host: '2001:db8::1', port: 443, label: '[2001:db8::1]:443' }],
    ['https://ollama.example.com/api/tags?x=1', { host: 'ollama.example.com', port: 443, label: 'ollama.example.com:443', path: '/api/tags?x=1' }],
    ['https://[::1]:9443/', { host: '::1', port: 9443, label: '[::1]:9443' }],
  ];
  for (const [input, want] of ok) {
    it(`parses ${input}`, () => {
      expect(parseTarget(input)).toMatchObject(want);
    });
  }
  for (const bad of ['', 'http://x', 'host:0', 'host:abc', '[1.2.3.4]:443', 'a b', 'host/path']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      expect(() => parseTarget(bad)).toThrow();
    });
  }
});

describe('--resolve', () => {
  it('reads curl\'s HOST:PORT:ADDR forms', () => {
    expect(parseResolveOption('Example.com:443:127.0.0.1')).toEqual({ host: 'example.com', port: 443, addresses: ['127.0.0.1'] });
    expect(parseResolveOption('example.com:443:[::1],127.0.0.2')).toEqual({ host: 'example.com', port: 443, addresses: ['::1', '127.0.0.2'] });
    expect(parseResolveOption('*:*:10.0.0.1')).toEqual({ host: '*', port: '*', addresses: ['10.0.0.1'] });
    expect(() => parseResolveOption('example.com:443')).toThrow();
  });
});
