// End-to-end tests start processes and wait on real infrastructure.
jest.setTimeout(120000);
