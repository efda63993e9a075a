// The Linux family of a tree from os-release ID and ID_LIKE.
import { describe, expect, it } from 'vitest';
import { parseOsRelease } from '../../../src/platform/os-release.js';

describe('os-release', () => {
  it.each([
    ['ID=ubuntu\nID_LIKE=debian', 'debian'],
    ['ID="rocky"\nID_LIKE="rhel centos fedora"', 'rhel'],
    ['ID=amzn\nID_LIKE="centos rhel fedora"', 'rhel'],
    ['ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"', 'suse'],
    ['ID=alpine', 'alpine'],
    ['ID=arch', 'arch'],
    ['ID=nixos', 'unknown'],
  ])('%s', (text, family) => {
    expect(parseOsRelease(text).family).toBe(family);
  });
});
