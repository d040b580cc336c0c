import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { classifyAddress, pinnedLookup, resolveTarget, type Resolver } from "./ssrf";
import { SinkDeliveryError } from "./types";

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "cloud-metadata"],
    ["168.63.129.16", "cloud-metadata"],
    ["169.254.0.1", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "reserved"],
    ["192.0.2.10", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fd00:ec2::254", "cloud-metadata"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fec0::1", "private"],
    ["febf::1", "link-local"],
    ["ff02::1", "multicast"],
    // IPv4 inside IPv6: judged by the IPv4 address.
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.5", "private"],
    ["::ffff:169.254.169.254", "cloud-metadata"],
    ["0:0:0:0:0:ffff:a9fe:a9fe", "cloud-metadata"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "cloud-metadata"],
    ["64:ff9b::10.1.2.3", "private"],
    ["2002:0a00:0005::1", "private"],
    ["2002:7f00:0001::1", "loopback"],
    ["2001:db8::1", "reserved"],
    // IPv4-translated (RFC 2765 SIIT, ::ffff:0:0:0/96).
    ["::ffff:0:127.0.0.1", "loopback"],
    ["::ffff:0:7f00:1", "loopback"],
    ["::ffff:0:10.0.0.5", "private"],
    ["::ffff:0:a9fe:a9fe", "cloud-metadata"],
    ["0:0:0:0:ffff:0:c0a8:101", "private"],
    // ISATAP interface ids (::0:5efe:a.b.c.d, ::200:5efe:a.b.c.d) under any prefix.
    ["2a00:1450:4001:80b:0:5efe:10.0.0.5", "private"],
    ["2a00:1450:4001:80b:200:5efe:7f00:1", "loopback"],
    ["2606:4700:4700:1:0:5efe:169.254.169.254", "cloud-metadata"],
  ])("%s is %s", (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "169.253.0.1", "11.0.0.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:0808:0808::1", "2400:cb00::1", "::ffff:0:8.8.8.8", "2a00:1450:4001:80b:0:5efe:8.8.8.8"])(
    "%s is public",
    (address) => {
      expect(classifyAddress(address)).toBeNull();
    },
  );

  it("refuses to judge text that is not an address", () => {
    expect(() => classifyAddress("localhost")).toThrow(/not an IP address/);
    expect(() => classifyAddress("2130706433")).toThrow(/not an IP address/);
  });
});

function fixedResolver(addresses: LookupAddress[]): Resolver {
  return async () => addresses;
}

describe("resolveTarget", () => {
  it.each(["::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe", "2a00:1450:4001:80b:0:5efe:a00:5"])(
    "refuses a name resolving to the IPv4-embedding address %s, like the IPv4 address inside",
    async (address) => {
      const error = await resolveTarget("siem.acme.example", {
        allowPrivateTargets: false,
        resolver: fixedResolver([{ address, family: 6 }]),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkDeliveryError);
      expect((error as SinkDeliveryError).message).toMatch(/^siem\.acme\.example resolves to (a loopback|the cloud metadata service's|a private) address/);
      const literal = await resolveTarget(`[${address}]`, { allowPrivateTargets: false }).catch((e: unknown) => e);
      expect(literal).toBeInstanceOf(SinkDeliveryError);
    },
  );


  it("refuses a name resolving to a private address, naming the host and the address", async () => {
    const error = await resolveTarget("siem.acme.example", {
      allowPrivateTargets: false,
      resolver: fixedResolver([{ address: "10.0.0.5", family: 4 }]),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkDeliveryError);
    expect((error as SinkDeliveryError).message).toBe(
      "siem.acme.example resolves to a private address (10.0.0.5); this deployment does not allow private targets.",
    );
    expect((error as SinkDeliveryError).retryable).toBe(false);
  });

  it("refuses when any one of several addresses is private", async () => {
    await expect(
      resolveTarget("mixed.example", {
        allowPrivateTargets: false,
        resolver: fixedResolver([
          { address: "93.184.216.34", family: 4 },
          { address: "::ffff:169.254.169.254", family: 6 },
        ]),
      }),
    ).rejects.toThrow("mixed.example resolves to the cloud metadata service's address (::ffff:169.254.169.254)");
  });

  it("refuses IP literals without a lookup, brackets or not", async () => {
    const never: Resolver = () => Promise.reject(new Error("must not look up a literal"));
    await expect(resolveTarget("169.254.169.254", { allowPrivateTargets: false, resolver: never })).rejects.toThrow(
      "169.254.169.254 is the cloud metadata service's address; this deployment does not allow private targets.",
    );
    await expect(resolveTarget("[::1]", { allowPrivateTargets: false, resolver: never })).rejects.toThrow("::1 is a loopback address");
  });

  it("allows everything, checked or not, when the deployment allows private targets", async () => {
    const target = await resolveTarget("db.internal", {
      allowPrivateTargets: true,
      resolver: fixedResolver([{ address: "10.0.0.5", family: 4 }]),
    });
    expect(target).toEqual({ host: "db.internal", addresses: [{ address: "10.0.0.5", family: 4 }] });
  });

  it("passes public names with all their addresses", async () => {
    const addresses = [
      { address: "93.184.216.34", family: 4 },
      { address: "2606:2800:220:1:248:1893:25c8:1946", family: 6 },
    ];
    await expect(resolveTarget("example.com", { allowPrivateTargets: false, resolver: fixedResolver(addresses) })).resolves.toEqual({
      host: "example.com",
      addresses,
    });
  });

  it("reports a name that does not resolve as retryable, without the resolver's text", async () => {
    const notFound: Resolver = () => Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND nope.example"), { code: "ENOTFOUND" }));
    const error = (await resolveTarget("nope.example", { allowPrivateTargets: false, resolver: notFound }).catch((e: unknown) => e)) as SinkDeliveryError;
    expect(error.message).toBe("nope.example could not be resolved (no such host in DNS).");
    expect(error.retryable).toBe(true);
  });

  it("refuses an empty host", async () => {
    await expect(resolveTarget("  ", { allowPrivateTargets: true })).rejects.toThrow("The sink has no host to deliver to.");
  });
});

describe("pinnedLookup", () => {
  const target = {
    host: "siem.example",
    addresses: [
      { address: "93.184.216.34", family: 4 },
      { address: "2606:2800:220:1:248:1893:25c8:1946", family: 6 },
    ],
  };

  it("answers with the checked addresses, whatever name it is asked about", () => {
    expect.assertions(4);
    const lookup = pinnedLookup(target);
    lookup("rebound.example", { all: true }, (error, addresses) => {
      expect(error).toBeNull();
      expect(addresses).toEqual(target.addresses);
    });
    lookup("rebound.example", {}, (error, address, family) => {
      expect([error, address, family]).toEqual([null, "93.184.216.34", 4]);
    });
    lookup("rebound.example", { family: 6 }, (error, address, family) => {
      expect([error, address, family]).toEqual([null, "2606:2800:220:1:248:1893:25c8:1946", 6]);
    });
  });

  it("fails rather than inventing an address of a family it was not given", () => {
    expect.assertions(1);
    const lookup = pinnedLookup({ host: "v4.example", addresses: [{ address: "93.184.216.34", family: 4 }] });
    lookup("v4.example", { family: 6 }, (error) => {
      expect((error as NodeJS.ErrnoException).code).toBe("ENOTFOUND");
    });
  });
});
