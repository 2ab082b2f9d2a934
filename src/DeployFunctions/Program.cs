using DeployFunctions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddDeployFunctions(builder.Configuration);
builder.Services.AddDeployFunctionsTelemetry(builder.Configuration);
await builder.Build().RunAsync();
