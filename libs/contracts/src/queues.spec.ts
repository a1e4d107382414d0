import { JobContracts, JobNames, notificationJobId } from './queues';

describe('queue contracts', () => {
  it('gives one job id per approval and channel', () => {
    const id = '0192f0c0-0000-7000-8000-000000000001';
    expect(notificationJobId(id, 'slack')).toBe(`${id}.slack`);
    expect(notificationJobId(id, 'slack')).not.toBe(notificationJobId(id, 'email'));
    // BullMQ rejects custom job ids containing ':'.
    expect(notificationJobId(id, 'email')).not.toContain(':');
  });

  it('checks job data by job name', () => {
    expect(JobContracts[JobNames.NotifySlack].safeParse({ approvalId: 'not-a-uuid' }).success).toBe(false);
    expect(
      JobContracts[JobNames.ExpireApproval].safeParse({ approvalId: '0192f0c0-0000-7000-8000-000000000001' }).success,
    ).toBe(true);
  });
});
