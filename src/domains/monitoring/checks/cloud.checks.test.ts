/**
 * Every check in cloud.checks.ts over CloudTrail records imported through the real import path:
 * passing and failing subjects, the finding an API call opens, and the call that closes it.
 */
import { after, before, test } from 'node:test';
import { type CheckBench, cloudTrail, openCheckBench, trailRecord } from './check-testing.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

const trailArn = (name: string) => `arn:aws:cloudtrail:us-east-1:111122223333:trail/${name}`;
const cloudtrailCall = (name: string, at: string, trail: string) =>
  trailRecord({ name, at, user: 'ops', source: 'cloudtrail.amazonaws.com', request: { name: trail } });

test('cloud.audit_logging_stopped: a stopped or deleted trail fails until logging starts again', async () => {
  const check = 'cloud.audit_logging_stopped';
  const ws = await bench.workspace();
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      cloudtrailCall('StartLogging', '2026-09-01T00:00:00Z', trailArn('main')),
      cloudtrailCall('StopLogging', '2026-10-01T00:00:00Z', trailArn('main')),
      cloudtrailCall('DeleteTrail', '2026-10-01T00:00:00Z', 'legacy'),
      cloudtrailCall('StartLogging', '2026-09-01T00:00:00Z', 'audit'),
      // A refused call changes nothing.
      trailRecord({
        name: 'StopLogging',
        at: '2026-10-01T00:00:00Z',
        user: 'mallory',
        source: 'cloudtrail.amazonaws.com',
        request: { name: 'audit' },
        error: 'AccessDenied',
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'CloudTrail trail main (aws-iam:111122223333)', /logging stopped by ops/);
  await ws.expectFails(check, 'CloudTrail trail legacy (aws-iam:111122223333)', /trail deleted by ops/);
  await ws.expectPasses(check, 'CloudTrail trail audit (aws-iam:111122223333)');

  await ws.import(
    'aws-cloudtrail',
    cloudTrail(cloudtrailCall('StartLogging', '2026-10-03T00:00:00Z', 'main')),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'CloudTrail trail main (aws-iam:111122223333)');
});

function ingress(name: string, at: string, group: string, port: number, cidr: string) {
  return trailRecord({
    name,
    at,
    user: 'dev',
    source: 'ec2.amazonaws.com',
    request: {
      groupId: group,
      ipPermissions: {
        items: [
          {
            ipProtocol: 'tcp',
            fromPort: port,
            toPort: port,
            groups: {},
            ipRanges: { items: [{ cidrIp: cidr }] },
            ipv6Ranges: {},
            prefixListIds: {},
          },
        ],
      },
    },
    response: { _return: true },
  });
}

test('cloud.security_group_open_admin_ports: SSH open to the world fails until the rule is revoked', async () => {
  const check = 'cloud.security_group_open_admin_ports';
  const ws = await bench.workspace();
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      ingress('AuthorizeSecurityGroupIngress', '2026-10-01T00:00:00Z', 'sg-open', 22, '0.0.0.0/0'),
      ingress('AuthorizeSecurityGroupIngress', '2026-10-01T00:00:00Z', 'sg-web', 443, '0.0.0.0/0'),
      ingress('AuthorizeSecurityGroupIngress', '2026-10-01T00:00:00Z', 'sg-office', 22, '10.0.0.0/8'),
      // The older flat request form, all protocols, IPv4 anywhere.
      trailRecord({
        name: 'AuthorizeSecurityGroupIngress',
        at: '2026-10-01T00:00:00Z',
        user: 'dev',
        source: 'ec2.amazonaws.com',
        request: { groupName: 'default', ipProtocol: '-1', cidrIp: '0.0.0.0/0' },
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'security group sg-open (aws-iam:111122223333)', /port 22 open to 0.0.0.0\/0/);
  await ws.expectFails(check, 'security group default (aws-iam:111122223333)', /ports 22, 3389/);
  await ws.expectPasses(check, 'security group sg-web (aws-iam:111122223333)');
  await ws.expectPasses(check, 'security group sg-office (aws-iam:111122223333)');

  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      ingress('RevokeSecurityGroupIngress', '2026-10-03T00:00:00Z', 'sg-open', 22, '0.0.0.0/0'),
      trailRecord({
        name: 'DeleteSecurityGroup',
        at: '2026-10-03T00:00:00Z',
        user: 'dev',
        source: 'ec2.amazonaws.com',
        request: { groupName: 'default' },
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'security group sg-open (aws-iam:111122223333)');
  await ws.expectPasses(check, 'security group sg-open (aws-iam:111122223333)');
  // A deleted group is no longer judged: its finding closes.
  await ws.expectClosed(check, 'security group default (aws-iam:111122223333)');
});

const everything = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});
const readS3 = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme/*' }],
});

test('cloud.inline_admin_policy: an inline allow-everything policy fails until it is deleted', async () => {
  const check = 'cloud.inline_admin_policy';
  const ws = await bench.workspace();
  const put = (user: string, policyName: string, policyDocument: string) =>
    trailRecord({
      name: 'PutUserPolicy',
      at: '2026-10-01T00:00:00Z',
      user: 'it.admin',
      request: { userName: user, policyName, policyDocument },
    });
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      put('alice@acme.test', 'break-glass', everything),
      put('bob@acme.test', 'read-reports', readS3),
      // A managed administrator policy is privilege_without_request's business, not this check's.
      trailRecord({
        name: 'AttachUserPolicy',
        at: '2026-10-01T00:00:00Z',
        user: 'it.admin',
        request: { userName: 'carol@acme.test', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /inline administrator policy break-glass/);
  await ws.expectPasses(check, 'bob@acme.test', /1 inline policies, none administrative/);
  await ws.expectNotJudged(check, 'carol@acme.test');

  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'DeleteUserPolicy',
        at: '2026-10-03T00:00:00Z',
        user: 'it.admin',
        request: { userName: 'alice@acme.test', policyName: 'break-glass' },
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
  await ws.expectPasses(check, 'alice@acme.test', /no inline policy held/);
});
