using Azure.Core;
using Azure.Identity;
using Azure.Storage.Queues;
using DeployFunctions.Board;
using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.Deployments;
using DeployFunctions.Functions;
using DeployFunctions.GitHub;
using DeployFunctions.History;
using DeployFunctions.Ledger;
using DeployFunctions.Maintenance;
using DeployFunctions.Policy;
using DeployFunctions.Previews;
using DeployFunctions.Protection;
using DeployFunctions.Providers;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeployFunctions;

/// <summary>The app's composition: options (validated at start), Azure clients, services and functions.</summary>
public static class DeployFunctionsServices
{
    /// <summary>The storage the host itself uses; the ingress and readers use the same account.</summary>
    public const string StorageSetting = "AzureWebJobsStorage";

    public static IServiceCollection AddDeployFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.AddOptions<StorageNamesOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageNamesOptions>, StorageNamesOptionsValidator>();

        services.AddOptions<GitHubOptions>().Bind(configuration.GetSection(GitHubOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GitHubOptions>, GitHubOptionsValidator>();
        services.AddOptions<DeployOptions>().Bind(configuration.GetSection(DeployOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeployOptions>, DeployOptionsValidator>();
        services.AddOptions<EnvironmentsOptions>()
            .Configure(options =>
            {
                configuration.GetSection(EnvironmentsOptions.SectionName).Bind(options.Environments);
                configuration.GetSection(EnvironmentsOptions.TargetsSectionName).Bind(options.Targets);
            });
        services.AddOptions<DeliveryRetryOptions>().Bind(configuration.GetSection(DeliveryRetryOptions.SectionName))
            .Validate(o => o.MaxAttempts >= 0 && o.BaseDelaySeconds > 0 && o.MaxDelaySeconds >= o.BaseDelaySeconds,
                "Retry__MaxAttempts must be >= 0, Retry__BaseDelaySeconds > 0 and Retry__MaxDelaySeconds >= Retry__BaseDelaySeconds.")
            .ValidateOnStart();
        services.AddOptions<FreezeOptions>()
            .Configure(options => configuration.GetSection(FreezeOptions.SectionName).Bind(options.Windows))
            .Validate(options => options.Windows.All(w => w.Problem() is null && !string.IsNullOrWhiteSpace(w.Reason)),
                "Every Freezes__<n> needs a Reason, and Cron with Duration (e.g. 64h) or From with Until; TimeZone must be an IANA name.")
            .ValidateOnStart();
        services.AddOptions<MaintenanceScheduleOptions>().Bind(configuration)
            .Validate(o => MaintenanceScheduleOptions.Problem(nameof(o.WatchdogSchedule), o.WatchdogSchedule) is null &&
                           MaintenanceScheduleOptions.Problem(nameof(o.PoisonWatchSchedule), o.PoisonWatchSchedule) is null &&
                           MaintenanceScheduleOptions.Problem(nameof(o.SweeperSchedule), o.SweeperSchedule) is null &&
                           MaintenanceScheduleOptions.Problem(nameof(o.PreviewSweepSchedule), o.PreviewSweepSchedule) is null,
                "WatchdogSchedule, PoisonWatchSchedule, SweeperSchedule and PreviewSweepSchedule must be six-field NCRONTAB schedules, e.g. 0 */5 * * * *.")
            .ValidateOnStart();
        services.AddOptions<SweeperOptions>().Bind(configuration.GetSection(SweeperOptions.SectionName))
            .Validate(o => o.MaxPerRun > 0 && o.MaxAttempts > 0 && o.Pages > 0 &&
                           DeployOptions.Split(o.Hooks).All(h => h.LastIndexOf('#') > 0 && long.TryParse(h[(h.LastIndexOf('#') + 1)..], out _)),
                "Sweeper__Hooks must list owner/name#hookId or org#hookId entries; Sweeper__MaxPerRun, __MaxAttempts and __Pages must be above 0.")
            .ValidateOnStart();
        services.AddOptions<ProtectionOptions>().Bind(configuration.GetSection(ProtectionOptions.SectionName))
            .Validate(o => o.MaxWaitMinutes is >= 0 and <= 43200 && o.PollSeconds > 0,
                "Protection__MaxWaitMinutes must be 0-43200 (GitHub waits 30 days at most) and Protection__PollSeconds above 0.")
            .ValidateOnStart();
        services.AddOptions<CommandOptions>().Bind(configuration.GetSection(CommandOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CommandOptions>, CommandOptionsValidator>();
        services.AddOptions<PreviewOptions>().Bind(configuration.GetSection(PreviewOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PreviewOptions>, PreviewOptionsValidator>();
        services.AddOptions<NotificationOptions>().Bind(configuration.GetSection(NotificationOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>();

        services.AddAzureClients(clients => AddStorageClients(clients, configuration.GetSection(StorageSetting)));
        services.AddSingleton(TimeProvider.System);

        // Ingress
        services.AddSingleton<WebhookSignature>();
        services.AddSingleton(provider =>
        {
            var previews = provider.GetRequiredService<IOptions<PreviewOptions>>().Value.Enabled;
            return provider.GetRequiredService<IOptions<CommandOptions>>().Value is { Enabled: true } commands
                ? new CommandRouting(commands.Prefix, commands.UnlockOnMerge, previews)
                : new CommandRouting(null, Previews: previews);
        });
        services.AddSingleton<DeliveryIntake>();
        services.AddSingleton<PayloadBlobs>();
        services.AddSingleton<IDeliveryQueues, DeliveryQueues>();
        services.AddSingleton<WebhookIngress>();

        // Queue handlers
        services.AddSingleton<DeliveryReader>();
        services.AddSingleton<IDeliveryRetries, DeliveryRetries>();
        services.AddSingleton<ILeaseLocks, BlobLeaseLocks>();
        services.AddSingleton<IGitHubClientFactory, GitHubClientFactory>();
        services.AddSingleton<IRateBudgetStore, TableRateBudgetStore>();
        services.AddSingleton<ICommandProgress, TableCommandProgress>();
        services.AddSingleton<GitHubRateGate>();
        services.AddSingleton<DeliveryWorker>();
        services.AddSingleton<DeployPolicy>();
        services.AddTransient<MergedPullRequestHandler>();
        services.AddTransient<DeploymentRunner>();
        services.AddTransient<DeploymentStatusRecorder>();
        services.AddTransient<CommandHandler>();
        services.AddTransient<DeployCommand>();
        services.AddTransient<LockCommands>();
        services.AddTransient<ProtectionRuleHandler>();
        services.AddTransient<CommandFeedback>();
        services.AddSingleton<IEnvironmentLocks, TableEnvironmentLocks>();
        services.AddSingleton<CommentMarks>();
        services.AddSingleton<IRepositoryConfigSource, GitHubRepositoryConfigSource>();
        services.AddSingleton<ConfigGate>();
        services.AddTransient<DeploymentWatchdog>();
        services.AddTransient<PoisonWatch>();
        services.AddTransient<PoisonQueues>();
        services.AddTransient<DeliverySweeper>();
        services.AddSingleton<IPreviewStore, TablePreviewStore>();
        services.AddTransient<PreviewService>();
        services.AddTransient<PreviewHandler>();
        services.AddTransient<PreviewSweeper>();
        services.AddTransient<IDeploymentProvider, SimulatedProvider>();
        // Deploy hook and notification URLs carry their secret in the path (Slack's do): IHttpClientFactory's request logging
        // would print them, so these clients log nothing of their own; what happened is logged by the runner and notifier.
        // The hook's wait is Environments__<name>__TimeoutSeconds alone, not HttpClient's default 100 s on top of it.
        // No redirects: a 3xx from the hook (or its status URL) must not carry the signed request to another host.
        services.AddHttpClient<HttpDeployHookProvider>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllLoggers();
        services.AddTransient<IDeploymentProvider>(provider => provider.GetRequiredService<HttpDeployHookProvider>());
        services.AddTransient<IDeploymentProvider, GitHubActionsProvider>();
        services.AddHttpClient<INotifier, IncomingWebhookNotifier>().RemoveAllLoggers();
        services.AddSingleton<IDeploymentHistory, TableDeploymentHistory>();
        services.AddSingleton<IDeploymentLedger, TableDeploymentLedger>();
        services.AddSingleton<IDeployBoard, TableDeployBoard>();
        services.AddSingleton<BoardReader>();
        services.AddSingleton<BoardAssets>();

        services.AddTransient<WebhookIngressFunction>();
        services.AddTransient<QueuedDeliveryFunctions>();
        services.AddTransient<DeploymentHistoryFunction>();
        services.AddTransient<BoardFunctions>();
        services.AddTransient<MaintenanceFunctions>();
        services.AddTransient<PoisonFunctions>();
        services.AddTransient<DeploymentReportFunction>();
        services.AddTransient<DeploymentReports>();
        return services;
    }

    /// <summary>
    /// <c>AzureWebJobsStorage</c> is a connection string (local, Azurite) or, in Azure, the identity-based form the
    /// host reads too: <c>__queueServiceUri</c>, <c>__blobServiceUri</c>, <c>__tableServiceUri</c>,
    /// <c>__credential=managedidentity</c>, <c>__clientId</c>.
    /// </summary>
    private static void AddStorageClients(AzureClientFactoryBuilder clients, IConfigurationSection storage)
    {
        if (!string.IsNullOrWhiteSpace(storage.Value))
        {
            clients.AddQueueServiceClient(storage.Value).ConfigureOptions(ConfigureQueues);
            clients.AddBlobServiceClient(storage.Value).ConfigureOptions(ConfigureRetries);
            clients.AddTableServiceClient(storage.Value);
            return;
        }

        var queueUri = storage["queueServiceUri"];
        var blobUri = storage["blobServiceUri"];
        var tableUri = storage["tableServiceUri"];
        if (string.IsNullOrWhiteSpace(queueUri) || string.IsNullOrWhiteSpace(blobUri) || string.IsNullOrWhiteSpace(tableUri))
        {
            throw new InvalidOperationException(
                "Storage is not configured: set AzureWebJobsStorage to a connection string (UseDevelopmentStorage=true " +
                "for Azurite), or set AzureWebJobsStorage__queueServiceUri, AzureWebJobsStorage__blobServiceUri and " +
                "AzureWebJobsStorage__tableServiceUri for identity-based access.");
        }

        clients.AddQueueServiceClient(new Uri(queueUri)).ConfigureOptions(ConfigureQueues);
        clients.AddBlobServiceClient(new Uri(blobUri)).ConfigureOptions(ConfigureRetries);
        clients.AddTableServiceClient(new Uri(tableUri));

        clients.UseCredential(CredentialFor(storage));
    }

    private static TokenCredential CredentialFor(IConfigurationSection storage) =>
        string.Equals(storage["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(string.IsNullOrWhiteSpace(storage["clientId"])
                ? ManagedIdentityId.SystemAssigned
                : ManagedIdentityId.FromUserAssignedClientId(storage["clientId"]!))
            : new DefaultAzureCredential();

    private static void ConfigureQueues(QueueClientOptions options)
    {
        // The queue trigger reads base64; messages written otherwise would fail to decode.
        options.MessageEncoding = QueueMessageEncoding.Base64;
        ConfigureRetries(options);
    }

    private static void ConfigureRetries(Azure.Core.ClientOptions options)
    {
        // GitHub waits 10 s for the ingress's answer: fail fast and answer 503 rather than let GitHub time out.
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(3);
    }
}
