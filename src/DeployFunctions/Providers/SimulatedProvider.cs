namespace DeployFunctions.Providers;

/// <summary>The guide's pretend deployment: waits <c>DelaySeconds</c>, then succeeds.</summary>
public sealed class SimulatedProvider(TimeProvider clock) : IDeploymentProvider
{
    public string Kind => ProviderKinds.Simulated;

    /// <summary>Pretends to be a real target, which cannot be assumed to recognise a repeated deployment.</summary>
    public bool Idempotent => false;

    public Uri? LogUrlFor(DeploymentJob job) => null;

    public async Task<ProviderResult> DeployAsync(DeploymentJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Noop)
        {
            return new ProviderResult.Succeeded(null, null,
                $"Noop: would deploy {job.Sha[..Math.Min(7, job.Sha.Length)]} to {job.Environment}; nothing was changed");
        }

        await System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(job.Settings.DelaySeconds), clock, cancellationToken);
        return job.Action == DeploymentJob.Destroy
            ? new ProviderResult.Succeeded(null, null, $"Simulated teardown of {job.Environment} finished")
            : new ProviderResult.Succeeded(job.Settings.EnvironmentUrl, null, "Simulated deployment finished");
    }
}
