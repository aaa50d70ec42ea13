/**
 * A company's year of data in its vendors' real formats, generated deterministically from a seed:
 * HR roster (CSV), Okta System Log (JSON lines), AWS IAM credential report (CSV), CloudTrail
 * (`{"Records": [...]}`) and the GitHub audit log (JSON lines) — with the imperfections real
 * programmes have: a leaver who kept access, a late deprovisioning, an administrator granted
 * without a request, MFA gaps, an old access key, a dormant password, a contractor nobody
 * declared, an ownerless service account, root use, a protection bypass.
 */

const day = 24 * 3600 * 1000;

/** mulberry32: small, fast, deterministic. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!,
    chance: (p: number) => next() < p,
    id: (length: number) => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      let s = '';
      for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    },
  };
}

type Rng = ReturnType<typeof random>;

const firstNames = [
  'ada',
  'ben',
  'cora',
  'dev',
  'eli',
  'fay',
  'gus',
  'hana',
  'ivo',
  'jun',
  'kai',
  'lea',
  'max',
  'nia',
  'omar',
  'pia',
  'quin',
  'rosa',
  'sam',
  'tia',
  'uma',
  'vic',
  'wen',
  'xan',
  'yara',
  'zed',
];
const lastNames = [
  'abe',
  'berg',
  'cruz',
  'diaz',
  'eng',
  'falk',
  'gray',
  'holm',
  'ito',
  'jones',
  'kerr',
  'lind',
  'moss',
  'nagy',
  'ortiz',
  'park',
  'reyes',
  'sato',
  'tan',
  'ueda',
  'vega',
  'wolf',
  'young',
  'zhou',
];
const departments = [
  ['Engineering', 'Software Engineer'],
  ['Engineering', 'Site Reliability Engineer'],
  ['Support', 'Support Specialist'],
  ['Sales', 'Account Executive'],
  ['Finance', 'Accountant'],
  ['Operations', 'IT Administrator'],
] as const;

export interface DemoPerson {
  employeeId: string;
  name: string;
  email: string;
  title: string;
  department: string;
  managerEmail: string;
  start: Date;
  end: Date | null;
  oktaId: string;
  login: string;
  engineer: boolean;
}

export interface DemoCompany {
  domain: string;
  org: string;
  accountId: string;
  people: DemoPerson[];
  files: Record<
    'hr-roster' | 'okta-system-log' | 'aws-iam-credential-report' | 'aws-cloudtrail' | 'github-audit-log',
    string
  >;
  /** What the data was built to contain, for the demo's own summary. */
  planted: string[];
}

const iso = (d: Date) => d.toISOString();
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const awsTime = (d: Date) => `${d.toISOString().slice(0, 19)}+00:00`;

function uuid(rng: Rng): string {
  const h = () =>
    Math.floor(rng.next() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`;
}

function oktaEvent(
  rng: Rng,
  eventType: string,
  published: Date,
  actor: DemoPerson | null,
  target: DemoPerson | null,
  extra: Record<string, unknown> = {},
) {
  const who = (p: DemoPerson) => ({
    id: p.oktaId,
    type: 'User',
    alternateId: p.email,
    displayName: p.name,
    detailEntry: null,
  });
  return JSON.stringify({
    actor: actor
      ? who(actor)
      : {
          id: '0oa1system',
          type: 'SystemPrincipal',
          alternateId: 'system@okta.com',
          displayName: 'Okta System',
          detailEntry: null,
        },
    client: {
      ipAddress: `203.0.113.${rng.int(1, 254)}`,
      userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
    },
    displayMessage: eventType,
    eventType,
    outcome: { result: 'SUCCESS', reason: null },
    published: iso(published),
    severity: 'INFO',
    debugContext: { debugData: extra },
    uuid: uuid(rng),
    version: '0',
    target: target ? [who(target)] : [],
  });
}

export function generateCompany(options: {
  slug: string;
  size: number;
  seed: number;
  now: Date;
}): DemoCompany {
  const rng = random(options.seed);
  const now = options.now;
  const yearAgo = new Date(now.getTime() - 365 * day);
  const domain = `${options.slug}.example`;
  const org = options.slug;
  const accountId = String(100000000000 + (options.seed % 899999999999)).slice(0, 12);
  const planted: string[] = [];
  const used = new Set<string>();
  const people: DemoPerson[] = [];
  for (let i = 0; i < options.size; i++) {
    let first = rng.pick(firstNames);
    let last = rng.pick(lastNames);
    while (used.has(`${first}.${last}`)) {
      first = rng.pick(firstNames);
      last = `${rng.pick(lastNames)}${rng.int(2, 99)}`;
    }
    used.add(`${first}.${last}`);
    const [department, title] = i === 0 ? (['Operations', 'Head of IT'] as const) : rng.pick(departments);
    // A third joined during the year; the rest before it.
    const start = rng.chance(0.3)
      ? new Date(yearAgo.getTime() + rng.int(0, 300) * day)
      : new Date(yearAgo.getTime() - rng.int(30, 1500) * day);
    people.push({
      employeeId: `E${1000 + i}`,
      name: `${first[0]!.toUpperCase()}${first.slice(1)} ${last[0]!.toUpperCase()}${last.slice(1)}`,
      email: `${first}.${last}@${domain}`,
      title,
      department,
      managerEmail: '',
      start: new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate())),
      end: null,
      oktaId: `00u${rng.id(17)}`,
      login: `${first[0]}${last}`.replace(/[^a-z0-9]/g, ''),
      engineer: department === 'Engineering' || department === 'Operations',
    });
  }
  const head = people[0]!;
  for (const p of people) p.managerEmail = p === head ? '' : head.email;
  // About 8% leave during the year (never the head of IT).
  const leavers = people.slice(1).filter(() => rng.chance(0.08));
  if (leavers.length < 3) leavers.push(...people.slice(1, 4 - leavers.length));
  for (const p of leavers) {
    const earliest = Math.max(p.start.getTime() + 30 * day, yearAgo.getTime() + 10 * day);
    p.end = new Date(Math.min(now.getTime() - 25 * day, earliest + rng.int(0, 300) * day));
    p.end = new Date(Date.UTC(p.end.getUTCFullYear(), p.end.getUTCMonth(), p.end.getUTCDate()));
  }
  const keptAccess = leavers[0]!;
  const lateLeaver = leavers[1]!;
  planted.push(`${keptAccess.email} left ${isoDay(keptAccess.end!)} and kept access`);
  planted.push(`${lateLeaver.email} was deprovisioned four days late`);

  // HR roster
  const hr = [
    'employee_id,name,email,title,department,manager_email,employment_type,start_date,end_date,status',
  ];
  for (const p of people) {
    hr.push(
      [
        p.employeeId,
        p.name,
        p.email,
        p.title,
        p.department,
        p.managerEmail,
        'full_time',
        isoDay(p.start),
        p.end ? isoDay(p.end) : '',
        p.end ? 'terminated' : 'active',
      ].join(','),
    );
  }

  // Okta System Log
  const okta: string[] = [];
  for (const p of people) {
    if (p.start > yearAgo) {
      okta.push(oktaEvent(rng, 'user.lifecycle.create', p.start, head, p));
      okta.push(oktaEvent(rng, 'user.lifecycle.activate', new Date(p.start.getTime() + 3600_000), head, p));
    }
    const from = p.start > yearAgo ? p.start : yearAgo;
    const until = p.end ?? now;
    const extraDays = p === keptAccess ? 6 * day : 0;
    for (
      let t = from.getTime() + rng.int(0, 6) * day;
      t < until.getTime() + extraDays && t < now.getTime();
      t += rng.int(5, 9) * day
    ) {
      okta.push(oktaEvent(rng, 'user.session.start', new Date(t + rng.int(8, 18) * 3600_000), p, p));
    }
    if (p.end && p !== keptAccess) {
      const delay = p === lateLeaver ? 4 * day + 3 * 3600_000 : rng.int(2, 20) * 3600_000;
      okta.push(
        oktaEvent(
          rng,
          'user.lifecycle.deactivate',
          new Date(p.end.getTime() + day + delay - 12 * 3600_000),
          head,
          p,
        ),
      );
    }
  }
  const newAdmin = people.find((p) => !p.end && p !== head && p.engineer) ?? people[1]!;
  okta.push(
    oktaEvent(rng, 'user.account.privilege.grant', new Date(now.getTime() - 40 * day), head, newAdmin, {
      privilegeGranted: 'Super administrator',
    }),
  );
  planted.push(`${newAdmin.email} was made Okta Super administrator without an approved request`);
  const temp: DemoPerson = {
    ...head,
    name: 'Temp Helpdesk',
    email: `temp.helpdesk@${domain}`,
    oktaId: `00u${rng.id(17)}`,
  };
  okta.push(oktaEvent(rng, 'user.lifecycle.create', new Date(now.getTime() - 90 * day), head, temp));
  okta.push(oktaEvent(rng, 'user.session.start', new Date(now.getTime() - 20 * day), temp, temp));
  planted.push(`${temp.email} is an Okta account with no person in HR`);
  okta.sort((a, b) => JSON.parse(a).published.localeCompare(JSON.parse(b).published));

  // IAM credential report (generated now) and CloudTrail
  const report = [
    'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated',
    `<root_account>,arn:aws:iam::${accountId}:root,2021-05-25T00:00:00+00:00,not_supported,${awsTime(new Date(now.getTime() - 12 * day))},not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
  ];
  const trail: unknown[] = [];
  const iamUsers = people.filter((p) => p.engineer && (!p.end || p === keptAccess));
  const noMfa = iamUsers.find((p) => p !== head && p !== keptAccess);
  const oldKey = iamUsers.find((p) => p !== head && p !== keptAccess && p !== noMfa);
  const dormant = iamUsers.find(
    (p) =>
      p !== head &&
      p !== keptAccess &&
      p !== noMfa &&
      p !== oldKey &&
      p.start < new Date(now.getTime() - 200 * day),
  );
  for (const p of iamUsers) {
    const created = new Date(Math.max(p.start.getTime() + day, yearAgo.getTime() - 400 * day));
    const lastUsed =
      p === dormant ? new Date(now.getTime() - 150 * day) : new Date(now.getTime() - rng.int(1, 12) * day);
    const rotated =
      p === oldKey ? new Date(now.getTime() - 200 * day) : new Date(now.getTime() - rng.int(5, 80) * day);
    const key = rng.chance(0.5) || p === oldKey;
    report.push(
      [
        p.email,
        `arn:aws:iam::${accountId}:user/${p.email}`,
        awsTime(created),
        'true',
        awsTime(lastUsed),
        awsTime(created),
        'N/A',
        p === noMfa ? 'false' : 'true',
        key ? 'true' : 'false',
        key ? awsTime(rotated) : 'N/A',
        key ? awsTime(new Date(now.getTime() - day)) : 'N/A',
        key ? 'us-east-1' : 'N/A',
        key ? 'iam' : 'N/A',
        'false',
        'N/A',
        'N/A',
        'N/A',
        'N/A',
        'false',
        'N/A',
        'false',
        'N/A',
      ].join(','),
    );
    if (p !== dormant) {
      for (let m = 11; m >= 0; m--) {
        const t = new Date(now.getTime() - m * 30 * day - rng.int(1, 10) * day);
        if (t < p.start || (p.end && t > p.end && p !== keptAccess)) continue;
        trail.push({
          eventVersion: '1.08',
          userIdentity: {
            type: 'IAMUser',
            principalId: `AIDA${rng.id(16).toUpperCase()}`,
            arn: `arn:aws:iam::${accountId}:user/${p.email}`,
            accountId,
            userName: p.email,
          },
          eventTime: `${t.toISOString().slice(0, 19)}Z`,
          eventSource: 'signin.amazonaws.com',
          eventName: 'ConsoleLogin',
          awsRegion: 'us-east-1',
          sourceIPAddress: `198.51.100.${rng.int(1, 254)}`,
          userAgent: 'Mozilla/5.0',
          requestParameters: null,
          responseElements: { ConsoleLogin: 'Success' },
          additionalEventData: {
            LoginTo: 'https://console.aws.amazon.com/console/home',
            MobileVersion: 'No',
            MFAUsed: p === noMfa ? 'No' : 'Yes',
          },
          eventID: uuid(rng),
          readOnly: false,
          eventType: 'AwsConsoleSignIn',
          managementEvent: true,
          recipientAccountId: accountId,
          eventCategory: 'Management',
        });
      }
    }
  }
  if (noMfa) planted.push(`${noMfa.email} signs in to AWS without MFA`);
  if (oldKey) planted.push(`${oldKey.email} has an access key 200 days old`);
  if (dormant) planted.push(`${dormant.email} has a console password unused for 150 days`);
  const contractor = `contractor.lee@partner-${options.slug}.example`;
  report.push(
    `${contractor},arn:aws:iam::${accountId}:user/${contractor},${awsTime(new Date(now.getTime() - 80 * day))},true,${awsTime(new Date(now.getTime() - 3 * day))},${awsTime(new Date(now.getTime() - 80 * day))},N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
  );
  planted.push(`${contractor} is an IAM user belonging to no one in HR`);
  report.push(
    `svc-backup,arn:aws:iam::${accountId}:user/svc-backup,${awsTime(new Date(now.getTime() - 300 * day))},false,N/A,N/A,N/A,false,true,${awsTime(new Date(now.getTime() - 30 * day))},${awsTime(new Date(now.getTime() - day))},us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
  );
  planted.push('svc-backup is a service account with no owner');
  trail.push({
    eventVersion: '1.08',
    userIdentity: { type: 'Root', principalId: accountId, arn: `arn:aws:iam::${accountId}:root`, accountId },
    eventTime: `${new Date(now.getTime() - 12 * day).toISOString().slice(0, 19)}Z`,
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.9',
    userAgent: 'Mozilla/5.0',
    requestParameters: null,
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: {
      LoginTo: 'https://console.aws.amazon.com/console/home',
      MobileVersion: 'No',
      MFAUsed: 'Yes',
    },
    eventID: uuid(rng),
    readOnly: false,
    eventType: 'AwsConsoleSignIn',
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: 'Management',
  });
  planted.push('the AWS root user signed in');

  // GitHub audit log
  const repos = [`${org}/api`, `${org}/web`, `${org}/infra`];
  const gh: string[] = [];
  const ghEvent = (t: Date, action: string, actor: string, extra: Record<string, unknown>) =>
    JSON.stringify({
      '@timestamp': t.getTime(),
      _document_id: rng.id(17),
      action,
      actor,
      actor_location: { country_code: 'US' },
      created_at: t.getTime(),
      org,
      business: '',
      ...extra,
    });
  for (const repo of repos)
    gh.push(
      ghEvent(new Date(yearAgo.getTime() + day), 'protected_branch.create', head.login, {
        repo,
        branch: 'refs/heads/main',
      }),
    );
  const engineers = people.filter((p) => p.engineer && !p.end);
  for (let t = yearAgo.getTime() + 2 * day; t < now.getTime(); t += rng.int(1, 4) * day) {
    const dev = rng.pick(engineers.length > 0 ? engineers : people);
    gh.push(ghEvent(new Date(t), 'git.push', dev.login, { repo: rng.pick(repos), user: '' }));
  }
  gh.push(
    ghEvent(new Date(now.getTime() - 50 * day), 'protected_branch.policy_override', (oldKey ?? head).login, {
      repo: repos[0],
      branch: 'refs/heads/main',
    }),
  );
  planted.push(`a push to ${repos[0]} bypassed branch protection`);
  gh.push(
    ghEvent(new Date(now.getTime() - 35 * day), 'protected_branch.destroy', head.login, {
      repo: repos[2],
      branch: 'refs/heads/main',
    }),
  );
  planted.push(`branch protection was removed from ${repos[2]}`);
  gh.sort((a, b) => JSON.parse(a)['@timestamp'] - JSON.parse(b)['@timestamp']);

  return {
    domain,
    org,
    accountId,
    people,
    planted,
    files: {
      'hr-roster': `${hr.join('\n')}\n`,
      'okta-system-log': `${okta.join('\n')}\n`,
      'aws-iam-credential-report': `${report.join('\n')}\n`,
      'aws-cloudtrail': JSON.stringify({ Records: trail }),
      'github-audit-log': `${gh.join('\n')}\n`,
    },
  };
}
