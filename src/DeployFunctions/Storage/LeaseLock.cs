using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Storage;

/// <summary>Mutual exclusion across function instances.</summary>
public interface ILeaseLocks
{
    /// <summary>The lock named <paramref name="key"/> (see <see cref="LockKeys"/>), or null when another holder has it.</summary>
    Task<ILeaseLock?> TryAcquireAsync(string key, CancellationToken cancellationToken);

    /// <summary>True while someone holds the lock named <paramref name="key"/> (its lease is live): its holder is still at work.</summary>
    Task<bool> IsHeldAsync(string key, CancellationToken cancellationToken);
}

/// <summary>A held lock. Disposing it releases it and never throws.</summary>
public interface ILeaseLock : IAsyncDisposable
{
    /// <summary>
    /// Cancelled as soon as the lock is lost, or can no longer be known to be held (renewals failed for as long as the
    /// lease lasts). Work done under the lock is linked to it, so it stops instead of running on unprotected.
    /// </summary>
    CancellationToken Lost { get; }

    /// <summary>
    /// Renews the lease now: true while the lock is still ours. Checked right before anything that may only happen under
    /// the lock (recording a result, reporting it), so nothing is written by a holder that lost it (fencing).
    /// </summary>
    Task<bool> ConfirmAsync(CancellationToken cancellationToken);
}

/// <summary>The names of the app's locks, built from escaped components (<see cref="StorageKey"/>).</summary>
public static class LockKeys
{
    /// <summary>One deployment at a time per repository and environment.</summary>
    public static string Environment(string repository, string environment) =>
        "environments/" + StorageKey.Join('/', repository, environment);

    /// <summary>One handler at a time per merge commit and environment.</summary>
    public static string Merge(string repository, string environment, string sha) =>
        "merges/" + StorageKey.Join('/', repository, environment, sha);

    /// <summary>One change at a time to a pull request's preview (a push, a close, a <c>.preview</c>, the timer).</summary>
    public static string Preview(string repository, long number) =>
        "previews/" + StorageKey.Join('/', repository, number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>One preview at a time of a repository becomes active, so that the cap (<c>Previews__MaxPerRepository</c>) holds.</summary>
    public static string PreviewCap(string repository) => "previews/" + StorageKey.Escape(repository) + "/~cap";

    /// <summary>One handling at a time of a pull request comment (a command and its reply).</summary>
    public static string Comment(string repository, long commentId) =>
        "comments/" + StorageKey.Join('/', repository, commentId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>How long a lease lasts, how often it is renewed, and how soon a failed renewal is tried again.</summary>
public sealed record LeaseTiming(TimeSpan Duration, TimeSpan RenewEvery, TimeSpan RetryEvery)
{
    /// <summary>60 s leases renewed every 20 s: a crashed holder frees its lock within a minute.</summary>
    public static readonly LeaseTiming Default = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(2));

    /// <summary>A holder stops counting on its lease this long before it would lapse.</summary>
    public TimeSpan SafetyMargin => RetryEvery + TimeSpan.FromSeconds(1);
}

/// <summary>
/// Locks are blob leases in the container <c>LockContainer</c>. A lease is renewed every
/// <see cref="LeaseTiming.RenewEvery"/>; a renewal that fails on a storage fault is tried again until the lease would
/// lapse, and only then is the lock given up as lost (<see cref="ILeaseLock.Lost"/>). A renewal that storage refuses
/// (someone else holds the lease, or it was broken) loses the lock at once.
/// </summary>
public sealed class BlobLeaseLocks(BlobServiceClient blobs, IOptions<StorageNamesOptions> names, LeaseTiming? timing = null) : ILeaseLocks
{
    private readonly LeaseTiming timing = timing ?? LeaseTiming.Default;

    public async Task<ILeaseLock?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var container = blobs.GetBlobContainerClient(names.Value.LockContainer);
        var blob = container.GetBlobClient(BlobName(key));
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.ErrorCode == "ContainerNotFound")
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            return await TryAcquireAsync(key, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412)
        {
            // The blob exists already (BlobAlreadyExists, or LeaseIdMissing while someone holds it): fine.
        }

        var lease = blob.GetBlobLeaseClient();
        var requested = DateTimeOffset.UtcNow;
        try
        {
            await lease.AcquireAsync(timing.Duration, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            return null;
        }

        return new Held(lease, timing, requested + timing.Duration);
    }

    public async Task<bool> IsHeldAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            var properties = await blobs.GetBlobContainerClient(names.Value.LockContainer).GetBlobClient(BlobName(key)).GetPropertiesAsync(cancellationToken: cancellationToken);
            return properties.Value.LeaseState == LeaseState.Leased;
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return false;
        }
    }

    /// <summary>Keys are made of escaped components; a key too long for a blob name keeps its start and a hash of all of it.</summary>
    internal static string BlobName(string key)
    {
        if (key.Length <= 900)
        {
            return key;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return key[..(900 - hash.Length - 1)] + "-" + hash;
    }

    private sealed class Held : ILeaseLock
    {
        private readonly BlobLeaseClient lease;
        private readonly LeaseTiming timing;
        private readonly CancellationTokenSource stop = new();
        private readonly CancellationTokenSource lost = new();
        private readonly Task renewing;
        private long heldUntilTicks;

        public Held(BlobLeaseClient lease, LeaseTiming timing, DateTimeOffset heldUntil)
        {
            this.lease = lease;
            this.timing = timing;
            heldUntilTicks = heldUntil.UtcTicks;
            renewing = RenewAsync();
        }

        public CancellationToken Lost => lost.Token;

        private DateTimeOffset HeldUntil => new(Interlocked.Read(ref heldUntilTicks), TimeSpan.Zero);

        public async Task<bool> ConfirmAsync(CancellationToken cancellationToken)
        {
            if (lost.IsCancellationRequested)
            {
                return false;
            }

            return await TryRenewAsync(cancellationToken) switch
            {
                Renewal.Renewed => true,
                Renewal.Refused => false,
                // Storage did not answer: the lease is ours until it would lapse, and the write itself is fenced too.
                _ => DateTimeOffset.UtcNow < HeldUntil - timing.SafetyMargin,
            };
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await stop.CancelAsync();
                await renewing;
                await lease.ReleaseAsync();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Lost, unreachable or anything else: the lease frees itself within its duration. Disposing never throws.
            }
            finally
            {
                stop.Dispose();
                lost.Dispose();
            }
        }

        private enum Renewal { Renewed, Refused, Unanswered }

        private async Task<Renewal> TryRenewAsync(CancellationToken cancellationToken)
        {
            var sent = DateTimeOffset.UtcNow;
            var left = HeldUntil - timing.SafetyMargin - sent;
            if (left <= TimeSpan.Zero)
            {
                return Renewal.Unanswered;
            }

            // A renewal that hangs must not outlive the lease: it is given up at the point the holder stops counting on it.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(left);
            try
            {
                await lease.RenewAsync(cancellationToken: deadline.Token);
                Interlocked.Exchange(ref heldUntilTicks, (sent + timing.Duration).UtcTicks);
                return Renewal.Renewed;
            }
            catch (RequestFailedException exception) when (exception.Status == 409)
            {
                // Another holder has the lease, or it was broken: the lock is gone.
                await lost.CancelAsync();
                return Renewal.Refused;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Whatever went wrong, the renewal did not happen: the loop keeps trying while the lease may be ours,
                // then gives the lock up. An unexpected exception must never end the loop with Lost left unsignalled.
                return Renewal.Unanswered;
            }
        }

        private async Task RenewAsync()
        {
            try
            {
                var wait = timing.RenewEvery;
                while (true)
                {
                    await Task.Delay(wait, stop.Token);
                    var renewal = await TryRenewAsync(stop.Token);
                    if (renewal == Renewal.Refused)
                    {
                        return;
                    }

                    if (renewal == Renewal.Renewed)
                    {
                        wait = timing.RenewEvery;
                        continue;
                    }

                    // A storage blip: try again soon, for as long as the lease may still be ours.
                    if (DateTimeOffset.UtcNow + timing.RetryEvery >= HeldUntil - timing.SafetyMargin)
                    {
                        await lost.CancelAsync();
                        return;
                    }

                    wait = timing.RetryEvery;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }
    }
}
